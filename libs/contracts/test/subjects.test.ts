import { describe, expect, it } from 'vitest';
import {
  InvalidSubjectToken,
  Subjects,
  isSubjectToken,
  parseIngressStream,
  parseSessionSubject,
  subject,
} from '../src/subjects';

describe('subject builder', () => {
  it('builds verb-early subjects under mg.v1', () => {
    expect(subject('router', 'call')).toBe('mg.v1.router.call');
    expect(Subjects.routerInstanceCall('router-abc')).toBe('mg.v1.router.router-abc.call');
    expect(Subjects.sessionToAgent('s_1-2')).toBe('mg.v1.session.s_1-2.to-agent');
    expect(Subjects.ingressResume('ing-1')).toBe('mg.v1.ingress.ing-1.resume');
    expect(parseIngressStream(Subjects.ingressResume('ing-1'))).toBeNull();
  });

  it.each(['a.b', '*', '>', 'a b', '$SYS', '', 'x\ny', 'a'.repeat(129)])('rejects the token %j', (bad) => {
    expect(isSubjectToken(bad)).toBe(false);
    expect(() => subject('session', bad)).toThrow(InvalidSubjectToken);
  });

  it('parses what it builds and returns null on other shapes', () => {
    expect(parseIngressStream(Subjects.ingressStream('ing-1', 'tok'))).toEqual({
      instance: 'ing-1',
      stream: 'tok',
    });
    expect(parseIngressStream('mg.v1.ingress.x.other.y')).toBeNull();
    expect(parseSessionSubject(Subjects.sessionToUpstream('abc'))).toEqual({
      sessionId: 'abc',
      verb: 'to-upstream',
    });
    expect(parseSessionSubject('mg.v1.router.call')).toBeNull();
  });

  it('spells the legacy HTTP+SSE subjects per session, refusing a hostile session id', () => {
    expect(Subjects.sessionLegacyAttach('s1')).toBe('mg.v1.session.s1.legacy-attach');
    expect(Subjects.sessionToLegacyAgent('s1')).toBe('mg.v1.session.s1.to-legacy-agent');
    expect(parseSessionSubject(Subjects.sessionToLegacyAgent('s1'))).toEqual({
      sessionId: 's1',
      verb: 'to-legacy-agent',
    });
    expect(() => Subjects.sessionLegacyAttach('*')).toThrow(InvalidSubjectToken);
    expect(() => Subjects.sessionToLegacyAgent('a.>')).toThrow(InvalidSubjectToken);
  });
});
