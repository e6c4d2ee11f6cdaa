-- What the extension installed, as text: run in a database upgraded to the
-- current version and in one where it was created fresh, the two must be
-- equal. Covers what upgrade scripts classically get wrong: a function left
-- with its old body or options, a missing grant or revoke, a differing
-- default, column, index, constraint or policy, a table not registered for
-- pg_dump. Everything is ordered by name, never by oid (an upgrade creates
-- objects in another order than the install script). Partitions are data, not schema (how many exist depends on what
-- was stored), so only their parents are described.
\set ON_ERROR_STOP on
\pset format unaligned
\pset fieldsep '|'
\pset null '<null>'
\pset footer off

-- An ACL as sorted "grantee:privilege:grantable", NULL spelled out as the
-- default it stands for.
CREATE FUNCTION pg_temp.acl(a aclitem[], kind "char", owner oid) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s:%s:%s', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE x.grantee::regrole::text END,
                             x.privilege_type, x.is_grantable), ' ' ORDER BY 1)
    FROM aclexplode(COALESCE(a, acldefault(kind, owner))) x
$$;

CREATE TEMP VIEW members AS
    SELECT d.classid, d.objid FROM pg_depend d
    WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
      AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'dozor');
CREATE TEMP VIEW rels AS
    SELECT c.* FROM pg_class c
    WHERE c.relnamespace = 'dozor'::regnamespace AND NOT c.relispartition;

\echo == extension
SELECT e.extname, e.extversion, e.extrelocatable, n.nspname,
       (SELECT string_agg(x::regclass::text, ' ' ORDER BY x::regclass::text) FROM unnest(e.extconfig) x) AS config
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'dozor';
\echo == member objects
SELECT pg_describe_object(m.classid, m.objid, 0) AS member FROM members m
WHERE NOT EXISTS (SELECT FROM pg_class c WHERE m.classid = 'pg_class'::regclass AND c.oid = m.objid AND c.relispartition)
ORDER BY 1;
\echo == functions
SELECT p.oid::regprocedure, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), p.prokind,
       p.provolatile, p.proparallel, p.proisstrict, p.prosecdef, p.proleakproof, p.procost, p.prorows,
       p.proconfig, l.lanname, p.probin, md5(p.prosrc), p.proowner::regrole, pg_temp.acl(p.proacl, 'f', p.proowner)
FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
JOIN pg_language l ON l.oid = p.prolang
ORDER BY p.oid::regprocedure::text;
\echo == types
SELECT t.oid::regtype, t.typtype, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_type t JOIN members m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
LEFT JOIN pg_attribute a ON a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY t.oid::regtype::text, 3;
\echo == schemas
SELECT n.nspname, n.nspowner::regrole, pg_temp.acl(n.nspacl, 'n', n.nspowner) FROM pg_namespace n
WHERE n.nspname = 'dozor' OR n.oid = (SELECT extnamespace FROM pg_extension WHERE extname = 'dozor')
ORDER BY 1;
\echo == relations of schema dozor
SELECT c.relname, c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity, c.reloptions,
       c.relowner::regrole, pg_get_partkeydef(c.oid),
       pg_temp.acl(c.relacl, (CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner),
       EXISTS (SELECT FROM members m WHERE m.classid = 'pg_class'::regclass AND m.objid = c.oid) AS member
FROM rels c WHERE c.relkind NOT IN ('i', 'I') ORDER BY 1;
\echo == columns
SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attstorage, a.attidentity, a.attgenerated, a.attcollation::regcollation,
       (SELECT string_agg(format('%s:%s', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE x.grantee::regrole::text END,
                                 x.privilege_type), ' ' ORDER BY 1) FROM aclexplode(a.attacl) x)
FROM rels c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relkind NOT IN ('i', 'I', 'S')
ORDER BY 1, 2;
\echo == indexes
SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM rels c JOIN pg_index i ON i.indrelid = c.oid ORDER BY 1, 2;
\echo == constraints
SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM rels c JOIN pg_constraint k ON k.conrelid = c.oid
ORDER BY 1, 2;
\echo == triggers
SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM rels c JOIN pg_trigger t ON t.tgrelid = c.oid
WHERE NOT t.tgisinternal ORDER BY 1, 2;
\echo == policies
SELECT p.tablename, p.policyname, p.permissive, p.roles, p.cmd, p.qual, p.with_check FROM pg_policies p
WHERE p.schemaname = 'dozor' ORDER BY 1, 2;
\echo == views
SELECT c.relname, pg_get_viewdef(c.oid) FROM rels c WHERE c.relkind IN ('v', 'm') ORDER BY 1;
\echo == sequences
SELECT s.seqrelid::regclass, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmax, s.seqmin,
       s.seqcache, s.seqcycle
FROM pg_sequence s JOIN rels c ON c.oid = s.seqrelid ORDER BY c.relname;
\echo == roles
SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcanlogin, r.rolbypassrls,
       (SELECT string_agg(g.roleid::regrole::text, ' ' ORDER BY 1) FROM pg_auth_members g WHERE g.member = r.oid)
FROM pg_roles r WHERE r.rolname LIKE 'dozor%' ORDER BY 1;
