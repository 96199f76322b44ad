/**
 * A database using every kind of object the PostgreSQL dump covers, with data holding the edge
 * values of the common types. Runs as a non-superuser (only trusted extensions).
 */
export const RICH_SCHEMA_STEPS: string[] = [String.raw`
CREATE SCHEMA shop;
COMMENT ON SCHEMA shop IS 'The shop''s tables';
CREATE SCHEMA "Odd Schema";
CREATE SCHEMA extras;

CREATE EXTENSION citext;
CREATE EXTENSION hstore WITH SCHEMA extras;

CREATE TYPE shop.mood AS ENUM ('sad', 'ok', 'happy');
`,
// A value added by ALTER TYPE cannot be used in the transaction that added it.
String.raw`ALTER TYPE shop.mood ADD VALUE 'meh' BEFORE 'ok';`,
String.raw`COMMENT ON TYPE shop.mood IS 'How a customer feels';
CREATE TYPE shop.address AS (street text, city text COLLATE "C", zip varchar(10));
COMMENT ON COLUMN shop.address.zip IS 'Postal code';
CREATE DOMAIN shop.positive_int AS integer DEFAULT 1 NOT NULL CONSTRAINT positive CHECK (VALUE > 0);
CREATE DOMAIN shop.email AS citext CONSTRAINT has_at CHECK (VALUE ~ '@');
COMMENT ON DOMAIN shop.email IS 'An e-mail address';
CREATE TYPE shop.floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
CREATE COLLATION shop.nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

CREATE SEQUENCE shop.invoice_no START 1000 INCREMENT 5;
SELECT nextval('shop.invoice_no'), nextval('shop.invoice_no');
CREATE SEQUENCE shop.never_used AS smallint MAXVALUE 500 CYCLE;

CREATE FUNCTION shop.slugify(t text) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT lower(regexp_replace(t, '[^a-zA-Z0-9]+', '-', 'g')) $$;
CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.updated_at := now(); -- a comment; with a semicolon
  RETURN NEW;
END;
$fn$;
CREATE FUNCTION shop.total(a numeric, b numeric) RETURNS numeric LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
  SELECT CASE WHEN a IS NULL THEN b ELSE a + b END;
END;
CREATE FUNCTION public.weird() RETURNS text LANGUAGE plpgsql AS $body$
BEGIN
  RETURN 'a;b $x$ -- not a comment /* nor this */ ''quoted''';
END
$body$;
COMMENT ON FUNCTION public.weird() IS E'multi\nline; comment with ''quotes''';
CREATE AGGREGATE shop.text_concat(text) (SFUNC = textcat, STYPE = text, INITCOND = '');

CREATE TABLE shop.customers (
  id bigint GENERATED ALWAYS AS IDENTITY (START WITH 10) PRIMARY KEY,
  email shop.email NOT NULL UNIQUE,
  name text NOT NULL,
  nickname text COLLATE shop.nocase,
  slug text GENERATED ALWAYS AS (shop.slugify(name)) STORED,
  mood shop.mood DEFAULT 'ok',
  address shop.address,
  tags extras.hstore,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz,
  CONSTRAINT name_not_blank CHECK (btrim(name) <> '')
);
COMMENT ON TABLE shop.customers IS 'People who buy';
COMMENT ON COLUMN shop.customers.email IS 'Login';
COMMENT ON CONSTRAINT name_not_blank ON shop.customers IS 'No empty names';

CREATE TABLE shop.orders (
  id serial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES shop.customers (id) ON DELETE CASCADE,
  invoice integer DEFAULT nextval('shop.invoice_no'),
  quantity shop.positive_int,
  amount numeric(12, 2) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  note text
);
ALTER TABLE shop.orders ALTER COLUMN note SET STORAGE EXTERNAL;
ALTER TABLE shop.orders ALTER COLUMN amount SET STATISTICS 500;
CREATE INDEX orders_customer_idx ON shop.orders (customer_id, created_at DESC);
CREATE UNIQUE INDEX orders_invoice_idx ON shop.orders (invoice) WHERE invoice IS NOT NULL;
COMMENT ON INDEX shop.orders_invoice_idx IS 'One order per invoice';
CREATE INDEX customers_name_idx ON shop.customers (lower(name));
ALTER TABLE shop.orders CLUSTER ON orders_customer_idx;
ALTER TABLE shop.orders REPLICA IDENTITY FULL;
CREATE STATISTICS shop.orders_stats (dependencies) ON customer_id, invoice FROM shop.orders;

CREATE FUNCTION shop.order_count(c bigint) RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT count(*) FROM shop.orders WHERE customer_id = c;
END;
CREATE FUNCTION shop.customer_by_id(bigint) RETURNS shop.customers LANGUAGE sql STABLE
  AS $$ SELECT * FROM shop.customers WHERE id = $1 $$;
CREATE PROCEDURE shop.archive(days integer) LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM shop.orders WHERE created_at < now() - make_interval(days => days);
END
$$;
COMMENT ON PROCEDURE shop.archive(integer) IS 'Deletes old orders';

CREATE TRIGGER customers_touch BEFORE UPDATE ON shop.customers FOR EACH ROW EXECUTE FUNCTION shop.touch();
COMMENT ON TRIGGER customers_touch ON shop.customers IS 'Keeps updated_at';
CREATE TRIGGER orders_touch_disabled BEFORE UPDATE ON shop.orders FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION shop.touch();
ALTER TABLE shop.orders DISABLE TRIGGER orders_touch_disabled;
ALTER TABLE shop.orders ADD CONSTRAINT amount_positive CHECK (amount >= 0) NOT VALID;

CREATE TABLE shop.categories (
  id integer PRIMARY KEY,
  parent_id integer REFERENCES shop.categories DEFERRABLE INITIALLY DEFERRED,
  name text NOT NULL
);

CREATE TABLE shop.events (
  id bigint NOT NULL,
  at timestamptz NOT NULL,
  kind text NOT NULL,
  customer_id bigint REFERENCES shop.customers (id),
  payload jsonb DEFAULT '{}',
  PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE shop.events_2024 PARTITION OF shop.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE shop.events_2025 PARTITION OF shop.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY HASH (id);
CREATE TABLE shop.events_2025_even PARTITION OF shop.events_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE shop.events_2025_odd PARTITION OF shop.events_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE shop.events_default PARTITION OF shop.events DEFAULT;
CREATE INDEX events_kind_idx ON shop.events (kind);
ALTER TABLE shop.events_2024 ALTER COLUMN payload SET DEFAULT '{"year": 2024}';

CREATE TABLE shop.notes (id integer, body text);
CREATE TABLE shop.urgent_notes (priority integer DEFAULT 1 CHECK (priority > 0)) INHERITS (shop.notes);
CREATE RULE notes_no_delete AS ON DELETE TO shop.notes DO INSTEAD NOTHING;

CREATE TABLE shop.bookings (room integer NOT NULL, during tstzrange NOT NULL, EXCLUDE USING gist (during WITH &&));
CREATE UNLOGGED TABLE shop.cache (k text PRIMARY KEY, v jsonb) WITH (fillfactor = 70);

ALTER TABLE shop.categories ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible_categories ON shop.categories FOR SELECT TO PUBLIC USING (name <> 'hidden');

CREATE VIEW shop.customer_totals AS
  SELECT c.id, c.name, sum(o.amount) AS total, shop.order_count(c.id) AS orders
  FROM shop.customers c LEFT JOIN shop.orders o ON o.customer_id = c.id
  GROUP BY c.id;
COMMENT ON VIEW shop.customer_totals IS 'Totals; grouped by the primary key';
CREATE VIEW shop.happy_customers WITH (security_barrier = true) AS
  SELECT id, name, mood FROM shop.customers WHERE mood = 'happy'
  WITH LOCAL CHECK OPTION;
CREATE MATERIALIZED VIEW shop.daily_sales AS
  SELECT date_trunc('day', created_at) AS day, sum(amount) AS total FROM shop.orders GROUP BY 1;
CREATE UNIQUE INDEX daily_sales_day ON shop.daily_sales (day);
CREATE MATERIALIZED VIEW shop.sales_summary AS SELECT count(*) AS days, sum(total) AS total FROM shop.daily_sales;
CREATE MATERIALIZED VIEW shop.not_yet AS SELECT 1 AS x WITH NO DATA;

CREATE TABLE "Odd Schema"."Mixed Case" ("Select" integer, "semi;colon" text, "quote""d" text, "end" text, "begin" text);
CREATE TABLE public.no_columns ();

CREATE TABLE public.types_zoo (
  id integer PRIMARY KEY,
  t text, vc varchar(20), ch char(5), b boolean, i2 smallint, i4 integer, i8 bigint,
  n numeric, n2 numeric(30, 10), f4 real, f8 double precision, by bytea,
  ts timestamp, tstz timestamptz, d date, tm time, tmtz timetz, iv interval,
  j json, jb jsonb, u uuid, bt bit(8), vb varbit, mood shop.mood,
  ir int4range, tr tstzrange, nr numrange, im int4multirange, fr shop.floatrange,
  ip inet, net cidr, mac macaddr, money money, pt point, bx box, x xml, tsv tsvector,
  ia integer[], ta text[], ma integer[][], ci citext, hs extras.hstore, addr shop.address, ch1 "char"
);

INSERT INTO shop.customers (email, name, nickname, mood, address, tags) VALUES
  ('ann@example.com', 'Ann Smith', 'annie', 'happy', ROW('1 Main St', 'Springfield', '12345'), 'a=>1, b=>NULL'),
  ('bob@example.com', 'Bob "The Builder"', NULL, 'meh', NULL, NULL),
  ('zoë@example.com', 'Zoë 😀 Ünïcode', 'ZOË', 'sad', ROW(NULL, '', NULL), '');
INSERT INTO shop.orders (customer_id, quantity, amount, created_at, note)
  SELECT 10 + (g % 3), 1 + g % 7, (g * 3.17)::numeric(12, 2), '2024-01-01'::timestamptz + g * interval '3 hours', CASE WHEN g % 5 = 0 THEN NULL ELSE repeat('note ', g % 20) END
  FROM generate_series(1, 2000) g;
INSERT INTO shop.categories VALUES (1, NULL, 'root'), (2, 1, 'child'), (3, 2, 'hidden');
INSERT INTO shop.events (id, at, kind, customer_id, payload)
  SELECT g, '2024-06-01'::timestamptz + g * interval '1 day', CASE WHEN g % 2 = 0 THEN 'click' ELSE 'view' END, 10 + g % 3, jsonb_build_object('n', g, 'tags', jsonb_build_array('x', g))
  FROM generate_series(1, 700) g;
INSERT INTO shop.notes VALUES (1, 'plain');
INSERT INTO shop.urgent_notes VALUES (2, 'urgent', 5);
INSERT INTO shop.bookings VALUES (1, '[2024-01-01, 2024-01-02)'), (1, '[2024-01-02, 2024-01-03)');
INSERT INTO shop.cache VALUES ('k', '{"cached": true}');
INSERT INTO "Odd Schema"."Mixed Case" VALUES (1, 'a;b', 'it''s', 'END;', 'BEGIN ATOMIC');
INSERT INTO public.no_columns DEFAULT VALUES;
INSERT INTO public.no_columns DEFAULT VALUES;
REFRESH MATERIALIZED VIEW shop.daily_sales;
REFRESH MATERIALIZED VIEW shop.sales_summary;

INSERT INTO public.types_zoo (id) VALUES (1);
INSERT INTO public.types_zoo VALUES (2,
  '', '', '', false, 0, 0, 0, 0, 0, 0, 0, ''::bytea,
  '2000-01-01', '2000-01-01 00:00:00+00', '2000-01-01', '00:00', '00:00+00', '0',
  '""', '{}', '00000000-0000-0000-0000-000000000000', B'00000000', B'', 'sad',
  'empty', 'empty', 'empty', '{}', 'empty',
  '0.0.0.0', '0.0.0.0/32', '00:00:00:00:00:00', 0, '(0,0)', '((0,0),(0,0))', '', '',
  '{}', '{}', '{}', '', '', ROW(NULL, NULL, NULL), ' ');
INSERT INTO public.types_zoo VALUES (3,
  E'tab\there\nnew line \\ backslash \r cr 😀 𝄞 日本語 \u0001', 'x😀y', 'ab', true, 32767, -2147483648, -9223372036854775808,
  'NaN', 12345678901234567890.0123456789, 'Infinity', '-Infinity', '\x00ff5c0a0d',
  'infinity', '-infinity', 'infinity', '24:00', '23:59:59.999999-15:59', '-1 day +02:03:04.5',
  '{"a": [1, 2.50, "\u00e9"], "b": null}', '{"emoji": "😀", "nested": {"x": [true, false, null]}, "n": 1.0e+400}',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', B'10101010', B'1010101010101', 'happy',
  '[1,10)', '[2024-01-01 00:00:00+00,infinity)', '(,5.5]', '{[1,3), [5,9)}', '[-Infinity, 0]',
  '2001:db8::1/64', '2001:db8::/32', '08:00:2b:01:02:03', '-92233720368547758.08', '(-1.5,1e300)', '((1,2),(3,4))',
  '<a x="1">t&amp;t</a>', 'fat:1A cat:2B rat',
  '{1,NULL,3}', '{"a,b","\"q\"",NULL,"NULL","",""}', '{{1,2},{3,4}}', 'MiXeD', '"k 1"=>"v;1", "k2"=>NULL', ROW('a "b"', 'c,d', '(e)'), 'x');
INSERT INTO public.types_zoo (id, n, f4, f8, tstz, ts, d, iv, money, n2) VALUES
  (4, '-Infinity', 'NaN', 'NaN', '2024-03-31 02:30:00 Europe/Paris', '0044-03-15 12:00:00 BC', '4713-01-01 BC', '178000000 years', '92233720368547758.07', -0.0000000001),
  (5, 'Infinity', '-0', 5e-324, '1999-12-31 23:59:59.999999 America/St_Johns', '294276-12-31 23:59:59.999999', '5874897-12-31', '-178000000 years', '-0.01', 0.1),
  (6, 0.000000000000000000000000000000000001, 3.4028235e38, 1.7976931348623157e308, NULL, NULL, NULL, '1 mon -1 day 00:00:00.000001', NULL, NULL);
INSERT INTO public.types_zoo (id, by, t) VALUES
  (7, (SELECT string_agg(decode(md5(g::text), 'hex'), ''::bytea) FROM generate_series(1, 100000) g), repeat('long text 😀 ', 50000));
`,
];
