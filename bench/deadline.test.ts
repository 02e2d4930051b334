import { describe, expect, it } from 'vitest';
import { withDeadline } from './deadline.js';

describe('withDeadline', () => {
  it('turns work that outlives its deadline into a failure with a reason', async () => {
    await expect(withDeadline(new Promise(() => {}), 50, 'the load run')).rejects.toThrow(/the load run timed out/);
  });

  it('passes through work that finishes in time', async () => {
    await expect(withDeadline(Promise.resolve(7), 1000, 'x')).resolves.toBe(7);
  });
});
