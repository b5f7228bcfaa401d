/** The part of `accepts` (used by @fastify/accepts) that bench/micro.ts calls; it ships no types. */
declare module 'accepts' {
  import type { IncomingMessage } from 'node:http';
  interface Accepts {
    type(types: string[]): string | false;
  }
  function accepts(request: IncomingMessage): Accepts;
  export default accepts;
}
