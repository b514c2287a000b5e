/**
 * Vitest global setup: one NATS for the whole run, handed to the test workers as NATS_URL.
 */
import { provideNats, type TestNats } from './nats';

let nats: TestNats | undefined;

export async function setup(): Promise<void> {
  nats = await provideNats();
  process.env['NATS_URL'] = nats.url;
  console.log(`[meshgate tests] NATS ${nats.url} (${nats.source})`);
}

export async function teardown(): Promise<void> {
  await nats?.stop();
}
