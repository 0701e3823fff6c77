// An injectable clock so that expiry logic is testable without sleeping.

/** The source of "now" for everything that expires. */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private currentMs = Date.UTC(2026, 0, 1)) {}
  nowMs(): number {
    return this.currentMs;
  }
  advanceSeconds(seconds: number): void {
    this.currentMs += seconds * 1000;
  }
}
