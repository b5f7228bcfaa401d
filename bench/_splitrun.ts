import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrivateRedis } from './lib/redis.js';
import { freePort, startProcess, treeCpuSeconds } from './lib/processes.js';
import { runLoad } from './lib/load.js';
import { seedSessions } from './lib/sessions.js';
const redis = await startPrivateRedis();
const dataDir = mkdtempSync(join(tmpdir(), 'ep-split-'));
const secret = randomBytes(32).toString('base64url');
const variants = ['noschema', 'kysely', 'me', 'guard', 'helmet', 'security'];
const servers: { v: string; url: string; pid: number; stop: () => Promise<void> }[] = [];
for (const v of variants) {
  const port = await freePort();
  const o = await startProcess({ name: v, command: process.execPath, args: ['--import', 'tsx', 'bench/_split.ts'], env: { ...process.env, V: v, PORT: String(port), REDIS_URL: redis.url, DATA_DIR: dataDir, SECRET_KEY: secret }, port, cwd: '/work/main', logFile: `/tmp/split-${v}.log` });
  servers.push({ v, url: `http://127.0.0.1:${port}/admin/me`, pid: o.child.pid!, stop: o.stop });
}
const [token] = await seedSessions({ redisUrl: redis.url, keyPrefix: 'starsessions.', count: 1, empNos: [10198], idleTimeoutSeconds: 1800, absoluteTimeoutSeconds: 28800, lastSeenSecondsAgo: 0, clientLabel: 'x' });
const headers = { accept: 'application/json', cookie: `session=${token}` };
for (const s of servers) { const r = await fetch(s.url, { headers }); if (r.status !== 200) throw new Error(s.v + ' ' + r.status + (await r.text())); await runLoad({ url: s.url, connections: 32, seconds: 2, headers }); }
const res: Record<string, number[]> = {};
for (let round = 0; round < 3; round++) for (const s of servers) {
  const c = treeCpuSeconds(s.pid);
  const run = await runLoad({ url: s.url, connections: 32, seconds: 4, headers });
  (res[s.v] ??= []).push(((treeCpuSeconds(s.pid) - c) / run.requests) * 1e6);
}
for (const [v, xs] of Object.entries(res)) console.log(v.padEnd(10), xs.map((x) => x.toFixed(0)).join(' '), 'median', [...xs].sort((a, b) => a - b)[1]!.toFixed(0));
for (const s of servers) await s.stop();
await redis.stop();
