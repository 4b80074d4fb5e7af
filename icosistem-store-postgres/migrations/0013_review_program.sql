-- Analytics at 10 000 applications and 30 000 reviews a program (DOMAIN.md §9, issue #14): a
-- program's reviews are read from a covering index of their own instead of being joined to the
-- program's applications (a hash join over every review of the platform, or one probe per
-- application). `program_id` is the application's, which never changes: a trigger copies it on
-- insert, so the store's generic row writer needs no new column. It stays nullable: an insert
-- naming no existing application fails on `reviews_application_id_fkey`, as before.
ALTER TABLE reviews ADD COLUMN program_id UUID;
UPDATE reviews r SET program_id = a.program_id FROM applications a WHERE a.id = r.application_id;

CREATE FUNCTION reviews_program_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.program_id := (SELECT program_id FROM applications WHERE id = NEW.application_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER reviews_program_id BEFORE INSERT ON reviews
    FOR EACH ROW EXECUTE FUNCTION reviews_program_id();

-- Done per reviewer and the score distribution: the submitted reviews of a program.
CREATE INDEX reviews_program_analytics_idx ON reviews (program_id, reviewer_id)
    INCLUDE (score, submitted_at) WHERE submitted_at IS NOT NULL;
-- Owed: a program's pending assignments, each probed for its application's status.
CREATE INDEX reviews_program_pending_idx ON reviews (program_id)
    INCLUDE (reviewer_id, application_id) WHERE submitted_at IS NULL;
