/** Waiting for something another process or the event loop does, without a fixed sleep. */
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `condition` every 10 ms until it holds or `withinMs` has passed; its last answer. */
export async function until(condition: () => boolean, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await sleep(10);
  }
  return condition();
}
