/**
 * The router's view of the server catalogue, read through the store port (`@meshgate/store`): loaded at
 * start, then kept current by the catalogue's watch, whose changes arrive within milliseconds. Entries the
 * store cannot read are reported by the store and treated as absent; they never crash the watch.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from '@meshgate/config';
import type { ServerDefinition } from '@meshgate/contracts';
import { KvServerCatalogue, type CatalogueChange, type CatalogueWatch } from '@meshgate/store';

/** Called after a server's definition changed; `def` is the new one (absent when removed). */
export type DefinitionChanged = (name: string, def: ServerDefinition | undefined) => void;

/** The definitions of the catalogue, kept current by a watch. */
export class RegistryView {
  private readonly defs = new Map<string, ServerDefinition>();
  private watcher: CatalogueWatch | undefined;

  /** The enabled definition of `name`, if any. */
  get(name: string): ServerDefinition | undefined {
    const def = this.defs.get(name);
    return def?.enabled ? def : undefined;
  }

  /** Every enabled definition, by name. */
  enabled(): ServerDefinition[] {
    return [...this.defs.values()].filter((d) => d.enabled).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Sets (or removes) the definition of `name`; true when it differs from what was there. */
  apply(name: string, def: ServerDefinition | undefined): boolean {
    const before = this.defs.get(name);
    if (def) this.defs.set(name, def);
    else this.defs.delete(name);
    return JSON.stringify(before) !== JSON.stringify(def);
  }

  /**
   * Opens the catalogue in `bucket`, loads every record, then watches for changes; `changed` is called after
   * every change that alters a definition (the watch's replay of records already loaded alters nothing).
   */
  async watch(nc: NatsConnection, bucket: string, log: Logger, changed: DefinitionChanged): Promise<void> {
    const catalogue = await KvServerCatalogue.open(nc, {
      bucket,
      onCorrupt: (key, reason) => log.error({ key, reason }, 'unreadable registry entry; server ignored'),
      onError: (err) => log.error({ err: String(err) }, 'registry watch failed'),
    });
    for (const record of await catalogue.list()) this.apply(record.definition.name, record.definition);
    this.watcher = await catalogue.watch((change: CatalogueChange) => {
      const name = change.op === 'put' ? change.record.definition.name : change.name;
      const def = change.op === 'put' ? change.record.definition : undefined;
      if (this.apply(name, def)) changed(name, def);
    });
  }

  async stop(): Promise<void> {
    await this.watcher?.stop();
  }
}
