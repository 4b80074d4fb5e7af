-- The write path (issue #10): what every submit, decision and login pays for in PostgreSQL.
-- Measured with the submit harness of benches/http (16 connections, 2 cores, one run after the
-- other on one database): dropping the append-only tables' foreign keys gave +4 % submits/s, the
-- application indexes below +8 %, dropping five indexes of the notice tables +5 % (two of them
-- are dropped here, the three that serve the API's filters are kept).

-- Append-only rows do not lock their parents. A foreign key check takes `FOR KEY SHARE` on the
-- referenced row, so every audit event locked its organization and every notice its recipient:
-- concurrent submits to one program all share-lock the same organization and the same staff
-- users, and PostgreSQL records each shared lock held by several transactions as a multixact —
-- the most contended rows of the database turned into multixact traffic on every command. The
-- rows of these tables are written only by the core, for a recipient, actor and organization it
-- has just read in the same unit of work; users and organizations are never deleted (they are
-- soft-deleted), so the keys could only ever be checked, never enforced against a delete; and an
-- audit trail must outlive whatever it names anyway.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_id_fkey;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_organization_id_fkey;
ALTER TABLE notifications DROP CONSTRAINT notifications_user_id_fkey;
ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_user_id_fkey;

-- A status change is never a HOT update (status is indexed), so every index of `applications`
-- gets an entry on every submit and decision: each index is paid for on the write path.
--
-- The analytics index of 0012 (`program_id` INCLUDE the four columns the aggregates read) and
-- the staff list's `(program_id, status, id DESC)` lead with the same column: one index holding
-- both serves the list as before and the aggregates as an index-only scan, already grouped by
-- status.
DROP INDEX applications_program_status_idx;
DROP INDEX applications_program_analytics_idx;
CREATE INDEX applications_program_status_idx ON applications (program_id, status, id DESC)
    INCLUDE (created_at, submitted_at, decided_at);

-- `(status, submitted_at)` served one query: the review-overdue job's "under review, submitted
-- at or before the cut-off". Partial on that status, only an assignment (which starts the
-- review) adds an entry, instead of every status change of every application.
DROP INDEX applications_status_submitted_idx;
CREATE INDEX applications_under_review_submitted_idx ON applications (submitted_at)
    WHERE status = 'under_review';

-- Every command writes notices (a notification, often an email in the outbox), so their indexes
-- are on every write path too; and PostgreSQL 15 locks each index of a table it inserts into,
-- past the 16 locks a transaction takes cheaply (the fast path) on a submit. Kept: the indexes
-- of the queries the platform runs. Dropped: `kind` on both tables, which no use case filters by
-- (an inbox is read per user and status, the outbox per status, channel, webhook and due time).
DROP INDEX notifications_kind_idx;
DROP INDEX outbox_messages_kind_idx;
