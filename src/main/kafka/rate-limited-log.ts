/**
 * Runs `fn` at most once per interval, passing how many calls were dropped since the last run:
 * a stream of bad Kafka records must not flood the log, but the log must still say how many.
 */
export class RateLimitedLog {
  private last = 0;
  private dropped = 0;

  constructor(private readonly intervalMs: number) {}

  run(fn: (suppressed: number) => void): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.dropped++;
      return;
    }
    this.last = now;
    const suppressed = this.dropped;
    this.dropped = 0;
    fn(suppressed);
  }
}
