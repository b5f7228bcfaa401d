/**
 * A search thread (see sqlite-reads.ts): runs one read-only query and returns its rows. Each thread
 * keeps one read-only connection per database file and each statement prepared once.
 */
import SqliteDatabase, { type Statement } from 'better-sqlite3';

export interface SearchTask {
  file: string;
  sql: string;
  parameters: unknown[];
}

const BUSY_TIMEOUT_MS = 5_000;
const connections = new Map<string, { database: SqliteDatabase.Database; statements: Map<string, Statement> }>();

export default function search({ file, sql, parameters }: SearchTask): unknown[] {
  let connection = connections.get(file);
  if (!connection) {
    connection = {
      database: new SqliteDatabase(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS }),
      statements: new Map(),
    };
    connections.set(file, connection);
  }
  let statement = connection.statements.get(sql);
  if (!statement) {
    statement = connection.database.prepare(sql);
    connection.statements.set(sql, statement);
  }
  return statement.all(...parameters);
}
