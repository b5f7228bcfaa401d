/**
 * The real server's own log destination (server.ts): stdout, written in batches. A batch must not
 * hide a quiet server's lines for long, nor lose the last ones when the process stops.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawnServer, type ServerProcess } from '../helpers/processes.js';
import { until } from '../helpers/wait.js';

const linesOf = (server: ServerProcess) =>
  server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string; reqId?: string; req?: { url: string } });

describe('the server writes its log lines to stdout', () => {
  let server: ServerProcess;
  after(() => server?.stop());

  it("shows one quiet request's line within about a second, and the last lines at a stop", async () => {
    server = await spawnServer({ LOG_LEVEL: 'info', NODE_ENV: 'production' });
    assert.ok(
      await until(() => linesOf(server).some((line) => line.msg.startsWith('Server listening')), 30_000),
      `no "Server listening" line: ${server.output()}`,
    );
    const response = await fetch(`${server.baseUrl}/health`, { headers: { 'x-request-id': 'quiet-1' } });
    assert.equal(response.status, 200);
    // A single line is far below a batch (16 KiB): only the periodic flush can bring it.
    assert.ok(
      await until(() => linesOf(server).some((line) => line.reqId === 'quiet-1' && line.msg === 'request completed'), 2_500),
      `the request's line did not appear within 2.5 s: ${server.output()}`,
    );

    // Lines written just before a stop are flushed on the way out, not dropped with the buffer.
    await fetch(`${server.baseUrl}/health`, { headers: { 'x-request-id': 'last-1' } });
    const exited = once(server.child, 'exit');
    server.child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
    const messages = linesOf(server);
    assert.ok(
      messages.some((line) => line.reqId === 'last-1'),
      `the last request's line was lost: ${server.output()}`,
    );
    assert.ok(
      messages.some((line) => line.msg === 'shutting down'),
      `no "shutting down" line: ${server.output()}`,
    );
  });
});
