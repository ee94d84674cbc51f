import errorSchema from '../../../../../shared/schemas/error.schema.json';
import { ERROR_SENTENCES, describeError } from './error-sentences';

describe('error sentences', () => {
  const codes: string[] = errorSchema.properties.code.enum;

  it('has a sentence for every code in the protocol, and none for a code it does not have', () => {
    expect(codes.length).toBeGreaterThan(40);
    expect(Object.keys(ERROR_SENTENCES).sort()).toEqual([...codes].sort());
  });

  it('speaks to people: whole sentences, never the code or a server string', () => {
    for (const code of codes) {
      const sentence = describeError({ code, message: `server text for ${code}` });
      expect(sentence, code).toMatch(/^[A-Z].*[.…]$/);
      expect(sentence, code).not.toContain(code);
      expect(sentence, code).not.toContain('server text');
    }
  });

  it('still says something for a code from a newer server', () => {
    expect(describeError({ code: 'from_the_future', message: 'x' })).toContain('from_the_future');
  });
});
