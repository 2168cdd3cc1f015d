"""The words index of the person search (cases/search.py, docs/decisions/0008).

- ``person_search_words``: a GIN index on the words of ``Person.search_name``
  (``to_tsvector('simple', search_name)``: no stemming, no stop words), so that "every typed word
  is one of these words" is a fast index lookup;
- ``cases_person_name_word``: every word that appears in some ``search_name``, so that a typed
  word can be turned into the words it stands for (itself, the words it begins, the words one
  letter away) before the index is asked. It is filled from the existing persons here and kept
  up to date by two statement-level triggers on ``cases_person`` (insert, and update of the
  name), enabled ``ALWAYS`` so that bulk loads in replica mode (``cases.demo``) fire them too.
  Words are only ever added: a word nobody bears any more matches nobody, and is not linked to
  anyone.

Plain SQL, outside Django's model state: ``Person`` does not change.
"""

from django.db import migrations

WORDS = "to_tsvector('simple'::regconfig, search_name)"

FORWARD = f"""
CREATE TABLE cases_person_name_word (word text COLLATE "C" PRIMARY KEY);

INSERT INTO cases_person_name_word (word)
SELECT DISTINCT unnest(tsvector_to_array({WORDS})) FROM cases_person;

CREATE INDEX person_search_words ON cases_person USING gin ({WORDS});

CREATE FUNCTION cases_person_name_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO cases_person_name_word (word)
        SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('simple'::regconfig, n.search_name)))
        FROM person_new n
        ORDER BY 1
        ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO cases_person_name_word (word)
        SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('simple'::regconfig, n.search_name)))
        FROM person_new n JOIN person_old o ON o.id = n.id
        WHERE n.search_name IS DISTINCT FROM o.search_name
        ORDER BY 1
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER cases_person_name_words_insert
    AFTER INSERT ON cases_person REFERENCING NEW TABLE AS person_new
    FOR EACH STATEMENT EXECUTE FUNCTION cases_person_name_words_add();
CREATE TRIGGER cases_person_name_words_update
    AFTER UPDATE ON cases_person REFERENCING OLD TABLE AS person_old NEW TABLE AS person_new
    FOR EACH STATEMENT EXECUTE FUNCTION cases_person_name_words_add();
ALTER TABLE cases_person ENABLE ALWAYS TRIGGER cases_person_name_words_insert;
ALTER TABLE cases_person ENABLE ALWAYS TRIGGER cases_person_name_words_update;

ANALYZE cases_person, cases_person_name_word;
"""

BACKWARD = """
DROP TRIGGER IF EXISTS cases_person_name_words_update ON cases_person;
DROP TRIGGER IF EXISTS cases_person_name_words_insert ON cases_person;
DROP FUNCTION IF EXISTS cases_person_name_words_add();
DROP INDEX IF EXISTS person_search_words;
DROP TABLE IF EXISTS cases_person_name_word;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_person_merge"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
