import type { Clock } from '@fleet/core';

/** A clock for tests: `sleep` resolves at once and moves `now` forward. */
export class SteppingClock implements Clock {
  private t = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }
}

/** A captured `Output`. */
export class CapturedOutput {
  stdout = '';
  stderr = '';
  readonly out = (text: string): void => {
    this.stdout += text;
  };
  readonly err = (text: string): void => {
    this.stderr += text;
  };
}
