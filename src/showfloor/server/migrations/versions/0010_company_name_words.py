"""A word-prefix index on ``exhibitors.company_name`` for the paid company searches (PostgreSQL only).

``word_prefixes(text)`` lists every prefix of every word of a name as the lexemes of a ``tsvector``
("Acme Co." -> a, ac, acm, acme, c, co). A word is a maximal run of ``[[:alnum:]_]``, split by the same
regex engine and collation as the ``\\m`` of the ``~* '\\mword'`` conditions, and only ASCII ``A-Z``
are lowered, as ``~*`` folds them (its case folding keeps ASCII letters ASCII in every locale). So for
a word of ASCII letters, digits and underscores, ``word_prefixes(company_name) @@ 'word'`` holds
exactly when ``company_name ~* '\\mword'`` does; ``catalog.search.company_name_condition`` sends only
such words here and keeps the regex for any other.

GIN answers an AND of exact lexemes from the rarest one's postings, so a search costs what its rarest
word costs: the regexes were rechecked on every row holding the common words (a sequential scan over
the 2,000 "Benchmark Company N" of ``bench/paid.py``), and a prefix query (``'llc':*``) would read every
posting of every matching lexeme.

The planner must never evaluate ``word_prefixes`` row by row (a sequential scan that rebuilds every
name's prefixes costs ~5 times the regexes): the function is declared expensive (``COST``), and the
index column keeps no statistics, so a word held by every row is estimated at the default 0.5 % and the
index stays the plan (it is also the cheaper one then). The pending list is kept small
(``gin_pending_list_limit``, 256 kB) so that a search right after a bulk load (the benchmark's seed)
does not scan thousands of unmerged entries; loading 100,000 names takes ~1.5 s longer with the index.

Like the search objects of 0002 and 0007 these have no model; ``catalog.search.include_name`` keeps the
index out of the models-vs-migrations comparison. SQLite keeps its FTS5 table.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WORD_PREFIXES = r"""
CREATE FUNCTION word_prefixes(name text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$
DECLARE
    word text;
    prefixes text[] := '{}';
BEGIN
    FOREACH word IN ARRAY regexp_split_to_array(
        translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '\W+')
    LOOP
        FOR n IN 1 .. length(word) LOOP  -- none for the '' at either end
            prefixes := prefixes || left(word, n);
        END LOOP;
    END LOOP;
    RETURN array_to_tsvector(prefixes);  -- sorted, duplicates removed
END
$$
"""

UPGRADE = (
    WORD_PREFIXES,
    "CREATE INDEX ix_exhibitors_company_name_words ON exhibitors "
    "USING gin (word_prefixes(company_name)) WITH (gin_pending_list_limit = 256)",
    "ALTER INDEX ix_exhibitors_company_name_words ALTER COLUMN 1 SET STATISTICS 0",
)

DOWNGRADE = (
    "DROP INDEX IF EXISTS ix_exhibitors_company_name_words",
    "DROP FUNCTION IF EXISTS word_prefixes(text)",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for statement in DOWNGRADE:
        op.execute(statement)
