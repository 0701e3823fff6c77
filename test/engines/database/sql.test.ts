// The PostgreSQL plugin's SQL handling: splitting on real semicolons only, quoting every substituted value
// for where it lands, Vault's statement encodings, and hostile values executed against a real server.
import { expandStatements, quoteIdentifier, quoteLiteral, renderStatement, splitStatements } from '../../../src/engines/database/plugins/postgres/sql';
import { createScratch } from '../../pg/cluster';

const ident = (value: string) => ({ value, kind: 'identifier' as const });
const literal = (value: string) => ({ value, kind: 'literal' as const });

describe('splitting statements', () => {
  it('splits on semicolons outside quotes, dollar quotes and comments', () => {
    expect(splitStatements(`CREATE ROLE "a;b"; GRANT x TO "a;b" ; `)).toEqual(['CREATE ROLE "a;b"', 'GRANT x TO "a;b"']);
    expect(splitStatements(`SELECT 'x;y'; SELECT E'it\\'s;'; SELECT 2`)).toEqual([`SELECT 'x;y'`, `SELECT E'it\\'s;'`, 'SELECT 2']);
    expect(splitStatements(`DO $$ BEGIN PERFORM 1; PERFORM 2; END $$; SELECT 3`)).toEqual(['DO $$ BEGIN PERFORM 1; PERFORM 2; END $$', 'SELECT 3']);
    expect(splitStatements(`DO $body$ BEGIN PERFORM 1; END $body$`)).toEqual(['DO $body$ BEGIN PERFORM 1; END $body$']);
    expect(splitStatements(`SELECT 1; -- a comment; with a semicolon\nSELECT 2; /* and ; another */`)).toEqual(['SELECT 1', '-- a comment; with a semicolon\nSELECT 2']);
  });

  it('keeps a statement with END outside quotes whole, as Vault does', () => {
    expect(splitStatements('CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END')).toHaveLength(1);
  });

  it('refuses unterminated quotes', () => {
    expect(() => splitStatements(`SELECT 'oops`)).toThrow('unterminated string literal');
    expect(() => splitStatements('SELECT "oops')).toThrow('unterminated quoted identifier');
    expect(() => splitStatements('DO $$ oops')).toThrow('unterminated dollar-quoted string');
  });

  it('accepts Vault\'s encodings: plain, base64, JSON array, base64 JSON array', () => {
    const sql = `CREATE ROLE "{{name}}"; GRANT r TO "{{name}}";`;
    const expected = ['CREATE ROLE "{{name}}"', 'GRANT r TO "{{name}}"'];
    expect(expandStatements([sql])).toEqual(expected);
    expect(expandStatements([Buffer.from(sql).toString('base64')])).toEqual(expected);
    expect(expandStatements([JSON.stringify(expected)])).toEqual(expected);
    expect(expandStatements([Buffer.from(JSON.stringify(expected)).toString('base64')])).toEqual(expected);
    expect(expandStatements(['', '  '])).toEqual([]);
  });
});

describe('rendering statements', () => {
  const hostile = `x"; DROP ROLE admin; --'\\`;

  it('quotes values for where they land', () => {
    const values = { name: ident(hostile), password: literal(hostile) };
    // Inside "..." (Vault's examples): the body is escaped.
    expect(renderStatement('CREATE ROLE "{{name}}"', values)).toBe(`CREATE ROLE "x""; DROP ROLE admin; --'\\"`);
    // Bare: quoted as an identifier / a literal.
    expect(renderStatement('CREATE ROLE {{name}}', values)).toBe(`CREATE ROLE ${quoteIdentifier(hostile)}`);
    expect(renderStatement('ALTER ROLE r PASSWORD {{password}}', values)).toBe(`ALTER ROLE r PASSWORD E'x"; DROP ROLE admin; --''\\\\'`);
    // Inside '...' and E'...'.
    expect(renderStatement(`ALTER ROLE r PASSWORD '{{password}}'`, values)).toBe(`ALTER ROLE r PASSWORD 'x"; DROP ROLE admin; --''\\'`);
    expect(renderStatement(`SELECT E'{{password}}'`, values)).toBe(`SELECT E'x"; DROP ROLE admin; --''\\\\'`);
    // Inside a dollar-quoted body the body is SQL again.
    expect(renderStatement(`DO $$ BEGIN EXECUTE format('CREATE ROLE %I', '{{name}}'); END $$`, values)).toBe(
      `DO $$ BEGIN EXECUTE format('CREATE ROLE %I', 'x"; DROP ROLE admin; --''\\'); END $$`,
    );
    // Unknown placeholders stay as they are.
    expect(renderStatement(`SELECT '{{other}}'`, values)).toBe(`SELECT '{{other}}'`);
  });

  it('refuses what it cannot quote safely', () => {
    expect(() => renderStatement('SELECT 1 -- {{name}}', { name: ident('a') })).toThrow('comment');
    expect(() => renderStatement('DO $$ SELECT {{password}} $$', { password: literal('$$; DROP ROLE admin; $$') })).toThrow('dollar-quoted');
    expect(() => renderStatement('SELECT {{password}}', { password: literal('a\u0000b') })).toThrow('NUL');
    expect(quoteLiteral("it's")).toBe("'it''s'");
  });

  it('hostile values stay values on a real server', async () => {
    const scratch = await createScratch();
    const name = `evil"; DROP ROLE admin; --${scratch.database}`;
    const password = `pa'ss"; DROP ROLE admin; --\\`;
    await scratch.ensureRole('admin');
    await scratch.sql(async (c) => {
      const values = { name: ident(name), password: literal(password), expiration: literal('2099-01-01 00:00:00+0000') };
      for (const sql of [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`, 'COMMENT ON ROLE {{name}} IS {{password}}']) {
        await c.query(renderStatement(sql, values));
      }
      const row = await c.query('SELECT shobj_description(oid, $2) AS comment FROM pg_roles WHERE rolname = $1', [name, 'pg_authid']);
      expect(row.rows[0]?.comment).toBe(password);
      await c.query(`DROP ROLE ${quoteIdentifier(name)}`);
    });
    expect(await scratch.roleExists('admin')).toBe(true);
  });
});
