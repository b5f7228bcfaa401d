/**
 * Everything a chaos run starts is registered here with the function that stops it (by the
 * process id it was given when it was spawned), so that a scenario's `finally`, a Ctrl-C or the
 * run's time limit stops it all, newest first, and nothing is ever looked up or killed by name.
 */

export type Stopper = () => Promise<void>;

export class Cleanup {
  private readonly stoppers: Array<{ label: string; stop: Stopper }> = [];
  /** Every label ever registered, in order (what this run started). */
  readonly history: string[] = [];

  /** Registers `stop`; returns a function that runs it at once and forgets it. */
  add(label: string, stop: Stopper): Stopper {
    const entry = { label, stop };
    this.history.push(label);
    this.stoppers.push(entry);
    return async () => {
      const index = this.stoppers.indexOf(entry);
      if (index >= 0) this.stoppers.splice(index, 1);
      await stop();
    };
  }

  /** Stops everything still registered, newest first; a failing stop does not keep the others running. */
  async stopAll(log: (line: string) => void = () => undefined): Promise<void> {
    while (this.stoppers.length > 0) {
      const { label, stop } = this.stoppers.pop()!;
      await stop().catch((error: unknown) => log(`warning: stopping ${label} failed: ${String(error)}`));
    }
  }

  get size(): number {
    return this.stoppers.length;
  }
}
