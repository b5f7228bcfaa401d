import { startProcess, freePort, treeCpuSeconds } from './lib/processes.js';
import { runLoad } from './lib/load.js';
const port = await freePort();
const p = await startProcess({ name: 'bare', command: process.execPath, args: ['--import', 'tsx', 'bench/baseline.ts'], env: { ...process.env, BASELINE_PORT: String(port) }, port, cwd: '/work/main' });
try {
  await runLoad({ url: `http://127.0.0.1:${port}/`, connections: 32, seconds: 2 });
  const c0 = treeCpuSeconds(p.child.pid!); const u0 = process.cpuUsage();
  const r = await runLoad({ url: `http://127.0.0.1:${port}/`, connections: 32, seconds: 5 });
  const c1 = treeCpuSeconds(p.child.pid!); const u1 = process.cpuUsage(u0);
  console.log(r.rps, 'server cpu %', ((c1 - c0) / r.seconds * 100).toFixed(0), 'generator cpu %', (((u1.user + u1.system) / 1e6) / r.seconds * 100).toFixed(0));
} finally { await p.stop(); }
