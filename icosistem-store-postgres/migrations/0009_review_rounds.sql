-- Review rounds (DOMAIN.md §10): a program's selection process as data.

-- The ordered rounds of a program, `[{name, reviewer_ids, min_reviews, threshold, blind}]`;
-- empty: one implicit round decided with `min_reviews`, as before rounds existed. Validated by
-- the core (`rules::rounds`); the database keeps it an array.
ALTER TABLE programs ADD COLUMN rounds JSONB NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(rounds) = 'array');

-- The index of the round an application is in (set when it is submitted to a program with
-- rounds).
ALTER TABLE applications ADD COLUMN current_round INTEGER CHECK (current_round >= 0);

-- The round a review belongs to (the application's round when the reviewer was assigned).
ALTER TABLE reviews ADD COLUMN round INTEGER CHECK (round >= 0);

-- One review per (application, reviewer, round): a reviewer reviews once per round. Reviews of
-- programs without rounds have no round, which counts as one (-1). The name is kept, so the
-- conflict still names `application_reviewer`; its prefix still answers an application's
-- reviews.
DROP INDEX reviews_application_reviewer_key;
CREATE UNIQUE INDEX reviews_application_reviewer_key
    ON reviews (application_id, reviewer_id, COALESCE(round, -1));
