-- The issue lists' most asked order, newest first within a project (the API's default and the
-- list page's), read straight from an index: a page of 20 reads 20 rows instead of sorting
-- every issue of the project. (The boards' order has its index since 0033.)
CREATE INDEX issues_project_created ON issues (project_id, created_at, id);

-- Each searchable row keeps its search document (migration 0040's `search_document`) as a
-- stored column, indexed as before. A search that walks rows in an order (newest first, or a
-- count that stops at 10,001) then tests a stored vector per row instead of rebuilding it from
-- the text, which made a rare word's search read for seconds. System notes have none.
ALTER TABLE issues ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (search_document(title || ' ' || description)) STORED;
CREATE INDEX issues_search_vector ON issues USING GIN (search_vector);
DROP INDEX issues_search;

ALTER TABLE notes ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (CASE WHEN system = 0 THEN search_document(body) END) STORED;
CREATE INDEX notes_search_vector ON notes USING GIN (search_vector) WHERE system = 0;
DROP INDEX notes_search;

ALTER TABLE epics ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (search_document(title || ' ' || description)) STORED;
CREATE INDEX epics_search_vector ON epics USING GIN (search_vector);
DROP INDEX epics_search;

ALTER TABLE wiki_pages ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (search_document(title || ' ' || content)) STORED;
CREATE INDEX wiki_pages_search_vector ON wiki_pages USING GIN (search_vector);
DROP INDEX wiki_pages_search;
