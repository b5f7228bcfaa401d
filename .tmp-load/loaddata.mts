import { Readable } from 'node:stream';
import { createConnection } from 'mysql2/promise';
import { SampleData, DATA_SIZES } from '/work/main/src/database/full-size/generate.ts';
const db = process.argv[2];
const c = await createConnection({ uri: `mysql://root@127.0.0.1:3306/${db}`, charset: 'utf8mb4' });
await c.query(`set session foreign_key_checks = 0, unique_checks = 0`);
await c.query('truncate table salaries');
const data = new SampleData({ employees: DATA_SIZES.full, passwords: { argon2id: 'A', bcrypt: 'B' } });
function* lines() {
  let text = ''; let n = 0;
  for (const r of data.salaries()) { text += `${r.emp_no}\t${r.salary}\t${r.from_date}\t${r.to_date}\n`; if (text.length > 256 * 1024) { yield Buffer.from(text); text = ''; } }
  yield Buffer.from(text);
}
const t = performance.now();
await c.beginTransaction();
await c.query({ sql: "load data local infile 'salaries' into table salaries fields terminated by '\\t' lines terminated by '\\n' (emp_no, salary, from_date, to_date)", infileStreamFactory: () => Readable.from(lines()) } as any);
await c.commit();
console.log('load data salaries s', (performance.now() - t) / 1000);
await c.end();
