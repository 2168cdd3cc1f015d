"""The disclosure log append in one round trip: ``ris_disclosure_append``.

The function takes the transaction-scoped advisory lock that serialises appends, reads the
chain's tail after the lock is granted (each statement of a PL/pgSQL function takes a fresh
snapshot under READ COMMITTED, so the tail is never stale), chains the new rows' hashes
exactly as ``sharing.disclosure.row_hash`` does (sha256 of ``prev|payload``, hex), inserts
them in one statement and returns their ids and hashes in order. The payloads are built in
Python (``sharing.disclosure._payload``), so the hashed text has one definition.
"""

from django.db import migrations

CREATE = r"""
CREATE FUNCTION ris_disclosure_append(
    lock_key bigint, at timestamptz, events text[], user_ids bigint[], organisation_ids bigint[],
    roles text[], person_ids bigint[], categories text[], levels text[], purposes text[],
    bases text[], channels text[], request_ids text[], payloads text[]
) RETURNS TABLE (id bigint, prev_hash varchar, row_hash varchar)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    prev text;
    prevs text[] := '{}';
    hashes text[] := '{}';
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT e.row_hash INTO prev FROM sharing_disclosurelogentry e ORDER BY e.id DESC LIMIT 1;
    prev := coalesce(prev, repeat('0', 64));
    FOR i IN 1 .. coalesce(array_length(payloads, 1), 0) LOOP
        prevs := prevs || prev;
        prev := encode(sha256(convert_to(prev || '|' || payloads[i], 'UTF8')), 'hex');
        hashes := hashes || prev;
    END LOOP;
    RETURN QUERY
    INSERT INTO sharing_disclosurelogentry AS e
        (at, event, user_id, organisation_id, role, person_id, category, level, purpose, basis,
         channel, request_id, prev_hash, row_hash)
    SELECT at, r.event, r.user_id, r.organisation_id, r.role, r.person_id, r.category, r.level,
           r.purpose, r.basis, r.channel, r.request_id, r.prev_hash, r.row_hash
    FROM unnest(events, user_ids, organisation_ids, roles, person_ids, categories, levels, purposes,
                bases, channels, request_ids, prevs, hashes)
         WITH ORDINALITY AS r(event, user_id, organisation_id, role, person_id, category, level,
                              purpose, basis, channel, request_id, prev_hash, row_hash, n)
    ORDER BY r.n
    RETURNING e.id, e.prev_hash, e.row_hash;
END;
$$;
"""

DROP = "DROP FUNCTION ris_disclosure_append(bigint, timestamptz, text[], bigint[], bigint[], text[], bigint[], text[], text[], text[], text[], text[], text[], text[]);"


class Migration(migrations.Migration):
    dependencies = [("sharing", "0004_history_person_index")]

    operations = [migrations.RunSQL(CREATE, DROP)]
