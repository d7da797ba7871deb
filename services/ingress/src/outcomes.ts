/**
 * In-process tally of request outcomes (accepted, duplicate, ignored, unauthorized, …), shown by
 * `/health/live`. Ignored webhook types must be acknowledged and counted: this is where.
 */
export class OutcomeCounts {
  private readonly counts = new Map<string, number>();

  add(outcome: string): void {
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
