-- Group wikis: the search index of wiki pages holds a group's pages too. A row belongs to
-- exactly one project or one group; deleting either deletes its rows.

ALTER TABLE wiki_pages ALTER COLUMN project_id DROP NOT NULL;
ALTER TABLE wiki_pages ADD COLUMN group_id BIGINT REFERENCES namespaces(id) ON DELETE CASCADE;
ALTER TABLE wiki_pages ADD CONSTRAINT wiki_pages_one_owner CHECK ((project_id IS NULL) <> (group_id IS NULL));
ALTER TABLE wiki_pages ADD CONSTRAINT wiki_pages_group_slug UNIQUE (group_id, slug);
