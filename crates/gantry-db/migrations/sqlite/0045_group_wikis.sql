-- Group wikis: the search index of wiki pages holds a group's pages too. A row belongs to
-- exactly one project or one group; deleting either deletes its rows. SQLite cannot loosen a
-- column's NOT NULL, so the table is made again with its full-text index; the index is
-- derived from the wikis' git repositories, and one refresh per project rebuilds it.

DROP TRIGGER wiki_pages_search_insert;
DROP TRIGGER wiki_pages_search_delete;
DROP TRIGGER wiki_pages_search_update;
DROP TABLE wiki_pages_search;
DROP TABLE wiki_pages;

CREATE TABLE wiki_pages (
    id INTEGER PRIMARY KEY,
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    group_id INTEGER REFERENCES namespaces(id) ON DELETE CASCADE,
    -- The page's path without its `.md` (`guides/Install`), its title, and the git blob its
    -- text was read from (a refresh reads only the pages whose blob changed).
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    blob_id TEXT NOT NULL,
    content TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((project_id IS NULL) <> (group_id IS NULL)),
    UNIQUE (project_id, slug),
    UNIQUE (group_id, slug)
);
CREATE VIRTUAL TABLE wiki_pages_search USING fts5 (
    title, content, content = 'wiki_pages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER wiki_pages_search_insert AFTER INSERT ON wiki_pages BEGIN
    INSERT INTO wiki_pages_search (rowid, title, content) VALUES (new.id, new.title, new.content);
END;
CREATE TRIGGER wiki_pages_search_delete AFTER DELETE ON wiki_pages BEGIN
    INSERT INTO wiki_pages_search (wiki_pages_search, rowid, title, content)
        VALUES ('delete', old.id, old.title, old.content);
END;
CREATE TRIGGER wiki_pages_search_update AFTER UPDATE OF title, content ON wiki_pages BEGIN
    INSERT INTO wiki_pages_search (wiki_pages_search, rowid, title, content)
        VALUES ('delete', old.id, old.title, old.content);
    INSERT INTO wiki_pages_search (rowid, title, content) VALUES (new.id, new.title, new.content);
END;

INSERT INTO background_jobs (kind, payload, status, dedupe_key, attempts, max_attempts, run_at, created_at, updated_at)
    SELECT 'index_wiki', '{"project":' || id || '}', 'queued', 'index_wiki:' || id, 0, 8,
           CAST(strftime('%s', 'now') AS INTEGER) * 1000, CAST(strftime('%s', 'now') AS INTEGER) * 1000,
           CAST(strftime('%s', 'now') AS INTEGER) * 1000
    FROM projects
    WHERE NOT EXISTS (SELECT 1 FROM background_jobs b WHERE b.dedupe_key = 'index_wiki:' || projects.id
                      AND b.status = 'queued');
