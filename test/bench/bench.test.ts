/**
 * The benchmark's baseline server (bench/baseline.ts) answers as the benchmark assumes: 200 with
 * the employee number for a session stored under `<prefix><id>`, 401 otherwise. Not timed: the
 * benchmark itself (`npm run bench`) never runs in the test suite.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { sessionIdOf, startBaseline, type Baseline } from '../../bench/baseline.js';
import { encodeSessionRecord } from '../../src/sessions/record-codec.js';
import { REDIS_SERVER_BINARY, startPrivateRedis, type PrivateRedis } from '../../support/private-servers.js';
import { NOT_AUTHENTICATED } from '../helpers/messages.js';
import { sentCommands, startPrivateRedis as startBenchRedis } from '../../bench/lib/redis.js';
import { heapTrend, pairedRatio, parseHeapAfterGc, rssSteady, rssTrend, type Scenario } from '../../bench/lib/report.js';

const hasRedisServer = spawnSync(REDIS_SERVER_BINARY, ['--version']).status === 0;
const gate = hasRedisServer || process.env.CI === 'true' ? {} : { skip: `${REDIS_SERVER_BINARY} is not installed` };

const token = () => randomBytes(16).toString('base64url');

describe('bench/baseline.ts', gate, () => {
  let redis: PrivateRedis;
  let client: Redis;
  let baseline: Baseline;
  let bare: Baseline;
  const prefix = `ep-test:${token()}:`;

  before(async () => {
    redis = await startPrivateRedis();
    client = new Redis(redis.url);
    baseline = await startBaseline({ redisUrl: redis.url, keyPrefix: prefix });
    bare = await startBaseline();
  });
  after(async () => {
    await baseline?.close();
    await bare?.close();
    client?.disconnect();
    await redis?.stop();
  });

  const get = (server: Baseline, cookie?: string) =>
    fetch(`http://127.0.0.1:${server.port}/admin/me`, cookie === undefined ? {} : { headers: { cookie } });

  it('answers 200 with the employee number for a stored session, after one GET of <prefix><id>', async () => {
    const id = token();
    const now = Date.now();
    const record = encodeSessionRecord({
      secretHash: 'x'.repeat(43),
      empNo: 10198,
      scopes: ['user:read'],
      createdAt: now,
      lastSeenAt: now,
    });
    await client.set(prefix + id, record, 'EX', 60);
    const response = await get(baseline, `theme=dark; session=${id}.${token()}`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { emp_no: 10198 });
  });

  it('answers 401 without a cookie, with an unknown session, and with a cookie of the wrong shape', async () => {
    for (const cookie of [undefined, `session=${token()}.${token()}`, 'session=abc', `other=${token()}.${token()}`]) {
      const response = await get(baseline, cookie);
      assert.equal(response.status, 401, `cookie ${cookie}`);
      assert.deepEqual(await response.json(), NOT_AUTHENTICATED);
    }
  });

  it('without Redis, answers 200 to anything (bare node:http, the reference)', async () => {
    const response = await get(bare);
    assert.equal(response.status, 200);
    await response.arrayBuffer();
  });

  it("reads the id from the app's cookie shape, <id>.<secret>", () => {
    const id = token();
    assert.equal(sessionIdOf(`session=${id}.${token()}`), id);
    assert.equal(sessionIdOf(`a=1; session=${id}.${token()}; b=2`), id);
    assert.equal(sessionIdOf(`session=${id}`), undefined);
    assert.equal(sessionIdOf(undefined), undefined);
  });
});

describe("the benchmark's Redis round trips", gate, () => {
  it('counts the commands clients send, a script as one, apart from what the script runs', async () => {
    const redis = await startBenchRedis();
    const client = new Redis(redis.url);
    try {
      const { result, sent } = await sentCommands(redis, async () => {
        await client.set('k', 'v');
        return client.eval("redis.call('GET', KEYS[1]); return redis.call('SET', KEYS[1], 'w', 'XX')", 1, 'k');
      });
      assert.equal(result, 'OK');
      assert.deepEqual([...sent].sort(), [
        ['eval', 1],
        ['set', 1],
      ]);
    } finally {
      client.disconnect();
      await redis.stop();
    }
  });
});

describe("the benchmark's memory verdict", () => {
  it('calls a steady or falling RSS steady, and growth beyond 5% or 2 MiB/min not', () => {
    assert.equal(rssSteady(200, 200, 0), true);
    assert.equal(rssSteady(218.7, 189.4, -17.65), true, 'falling: the heap settling (the run of e2a628e)');
    assert.equal(rssSteady(200, 209, 1.5), true);
    assert.equal(rssSteady(200, 211, 1.5), false, 'grew 5.5%');
    assert.equal(rssSteady(200, 205, 2.5), false, 'growing 2.5 MiB/min');
  });

  it("reads the heap's sawtooth as steady, wherever its last sample falls, and a rise as growth", () => {
    const MiB = 2 ** 20;
    // 120 s: a flat 250 MiB with a 60 MiB sawtooth of 12 s (the heap filling up between two full collections).
    const sawtooth = Array.from({ length: 121 }, (_, t): [number, number] => [t, (250 + (t % 12) * 5) * MiB]);
    const steady = rssTrend(sawtooth.slice(0, 120)); // ends at a peak of the sawtooth
    assert.ok(rssSteady(steady.rssAtQuarterMiB, steady.rssEndMiB, steady.rssSlopeMiBPerMinute), JSON.stringify(steady));
    const rising = rssTrend(sawtooth.map(([t, bytes]): [number, number] => [t, bytes + t * 0.2 * MiB]));
    assert.ok(!rssSteady(rising.rssAtQuarterMiB, rising.rssEndMiB, rising.rssSlopeMiBPerMinute), JSON.stringify(rising));
    // A slow leak the sawtooth hides from the first and last windows alone: 3 MiB/min.
    const leaking = rssTrend(sawtooth.map(([t, bytes]): [number, number] => [t, bytes + t * 0.05 * MiB]));
    assert.ok(leaking.rssSlopeMiBPerMinute > 2, JSON.stringify(leaking));
  });

  it('reads the slope from the window floors, so one burst in the middle does not make a trend', () => {
    const MiB = 2 ** 20;
    // Flat at 270 MiB with 10 s at 320 MiB in the middle (a full collection that came late).
    const burst = Array.from({ length: 121 }, (_, t): [number, number] => [t, (t >= 60 && t < 70 ? 320 : 270) * MiB]);
    const trend = rssTrend(burst);
    assert.equal(trend.rssSlopeMiBPerMinute, 0, JSON.stringify(trend));
    assert.deepEqual(trend.rssWindowsMiB.length, 6);
    assert.ok(rssSteady(trend.rssAtQuarterMiB, trend.rssEndMiB, trend.rssSlopeMiBPerMinute));
  });
});

describe("the benchmark's heap after full collections", () => {
  const MiB = 2 ** 20;

  it("reads scripts/heap-after-gc.mjs's lines as seconds after the run began and bytes", () => {
    const startedAt = 1_796_000_000_000;
    const text = [
      `12 s: heap used 41.5 MiB, RSS 280 MiB, at ${startedAt + 2_500}`,
      'something else',
      `13 s: heap used 40.0 MiB, RSS 281 MiB, at ${startedAt + 3_000}`,
      '',
    ].join('\n');
    assert.deepEqual(parseHeapAfterGc(text, startedAt), [
      [2.5, 41.5 * MiB],
      [3, 40 * MiB],
    ]);
  });

  it('calls a flat heap steady whatever one collection reads, and a slow leak not', () => {
    // A full collection every 3 s over 120 s, at 40 to 44 MiB, with one late collection at 60 MiB.
    const flat = Array.from({ length: 40 }, (_, i): [number, number] => [i * 3, (40 + ((i * 7) % 5) + (i === 20 ? 20 : 0)) * MiB]);
    const steady = heapTrend(flat, 120);
    assert.ok(rssSteady(steady.heapAtQuarterMiB, steady.heapEndMiB, steady.heapSlopeMiBPerMinute), JSON.stringify(steady));
    assert.equal(steady.heapCollections, 30); // at 30 s to 117 s
    assert.equal(steady.heapWindowsMiB.length, 6);
    // 3 MiB a minute held on to: 4.5 MiB over the 90 s judged, inside the flat heap's own spread.
    const leaking = heapTrend(
      flat.map(([t, bytes]): [number, number] => [t, bytes + (t / 60) * 3 * MiB]),
      120,
    );
    assert.ok(leaking.heapSlopeMiBPerMinute > 2, JSON.stringify(leaking));
    assert.ok(!rssSteady(leaking.heapAtQuarterMiB, leaking.heapEndMiB, leaking.heapSlopeMiBPerMinute));
  });

  it('leaves out windows without a collection', () => {
    const sparse: Array<[number, number]> = [
      [31, 40 * MiB],
      [100, 41 * MiB],
    ];
    const trend = heapTrend(sparse, 120);
    assert.deepEqual(trend.heapWindowsMiB, [40, 41]);
    assert.equal(trend.heapCollections, 2);
  });
});

describe("the benchmark's ratios between rows", () => {
  const row = (perRound: Array<[rps: number, p99: number]>): Scenario => ({
    id: 'x',
    label: 'x',
    rps: perRound.map(([rps]) => rps).sort((a, b) => a - b)[Math.floor(perRound.length / 2)]!,
    p50: 1,
    p95: 1,
    p99: perRound.map(([, p99]) => p99).sort((a, b) => a - b)[Math.floor(perRound.length / 2)]!,
    requests: 1,
    failures: '',
    rounds: perRound.length,
    perRound: perRound.map(([rps, p99]) => ({ rps, p99 })),
  });

  it('takes them round by round: a spell of noise that slows both runs of a round does not move them', () => {
    // The machine is twice as slow in rounds 2 to 4; the app is half the baseline's rate in each round.
    const baseline = row([
      [30_000, 2],
      [15_000, 4],
      [15_000, 4],
      [15_000, 4],
      [30_000, 2],
    ]);
    const app = row([
      [15_000, 4],
      [7_500, 8],
      [7_500, 8],
      [7_500, 8],
      [15_000, 4],
    ]);
    assert.equal(pairedRatio(app, baseline, 'rps'), 0.5);
    assert.equal(pairedRatio(app, baseline, 'p99'), 2);
    // The ratio of the medians reads the spell: 7,500 against 15,000 here too, but 15,000 against 15,000
    // had the spell fallen on the baseline's rounds and not the app's.
    const unlucky = row([
      [15_000, 4],
      [15_000, 4],
      [7_500, 8],
      [15_000, 4],
      [15_000, 4],
    ]);
    assert.equal(pairedRatio(unlucky, baseline, 'rps'), 0.5, 'the median of 0.5, 1, 0.5, 1, 0.5');
    assert.equal(unlucky.rps / baseline.rps, 1);
  });

  it('falls back to the plain ratio with one round, and takes the middle two of an even count', () => {
    assert.equal(pairedRatio(row([[10_000, 3]]), row([[20_000, 2]]), 'rps'), 0.5);
    assert.equal(
      pairedRatio(
        row([
          [10, 1],
          [20, 1],
        ]),
        row([
          [10, 1],
          [10, 1],
        ]),
        'rps',
      ),
      1.5,
    );
  });
});
