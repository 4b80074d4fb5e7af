-- Analytics (DOMAIN.md §9): a program's figures are aggregates over its applications and their
-- reviews. These covering indexes hold every column those aggregates read, so a program with
-- ten thousand applications and thirty thousand reviews is counted from the indexes (an
-- index-only scan once vacuumed) instead of the wide rows (answers, comments).
CREATE INDEX applications_program_analytics_idx ON applications (program_id)
    INCLUDE (status, created_at, submitted_at, decided_at);
CREATE INDEX reviews_application_analytics_idx ON reviews (application_id)
    INCLUDE (reviewer_id, score, submitted_at);
