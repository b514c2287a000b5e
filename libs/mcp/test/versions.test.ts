import { describe, expect, it } from 'vitest';
import { negotiateVersion, isProtocolVersion, ProtocolVersions, LatestSessionVersion } from '../src/versions';

describe('protocol versions', () => {
  it('lists every released version, oldest first', () => {
    expect(ProtocolVersions).toEqual(['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28']);
    expect(isProtocolVersion('2025-06-18')).toBe(true);
    expect(isProtocolVersion('2024-10-07')).toBe(false);
    expect(isProtocolVersion(20250618)).toBe(false);
  });

  it('answers with the requested version when the gateway supports it for sessions', () => {
    for (const v of ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'])
      expect(negotiateVersion(v)).toBe(v);
  });

  it('answers with the latest session version otherwise', () => {
    expect(LatestSessionVersion).toBe('2025-11-25');
    expect(negotiateVersion('2026-07-28')).toBe('2025-11-25');
    expect(negotiateVersion('1999-01-01')).toBe('2025-11-25');
    expect(negotiateVersion(undefined)).toBe('2025-11-25');
    expect(negotiateVersion(42)).toBe('2025-11-25');
  });

  it('can be extended with another list of supported versions', () => {
    expect(negotiateVersion('2026-07-28', ['2025-11-25', '2026-07-28'])).toBe('2026-07-28');
    expect(negotiateVersion('2024-11-05', ['2025-11-25', '2026-07-28'])).toBe('2026-07-28');
  });
});
