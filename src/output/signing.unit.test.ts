import { describe, expect, it } from 'vitest';
import { newSecret, sign, verify } from './signing.js';

describe('Standard Webhooks signatures', () => {
  it('matches the reference example of the specification', () => {
    // From the Standard Webhooks specification's example (and its libraries' tests).
    expect(
      sign(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies its own signatures and refuses altered ones', () => {
    const secret = newSecret();
    const header = sign(secret, 'msg_1', 1700000000, '{"a":1}');
    expect(verify(secret, 'msg_1', 1700000000, '{"a":1}', header)).toBe(true);
    expect(verify(secret, 'msg_1', 1700000000, '{"a":2}', header)).toBe(false);
    expect(verify(secret, 'msg_2', 1700000000, '{"a":1}', header)).toBe(false);
    expect(verify(secret, 'msg_1', 1700000001, '{"a":1}', header)).toBe(false);
    expect(verify(newSecret(), 'msg_1', 1700000000, '{"a":1}', header)).toBe(false);
    expect(verify(secret, 'msg_1', 1700000000, '{"a":1}', `v1,bogus ${header}`)).toBe(true);
  });
});
