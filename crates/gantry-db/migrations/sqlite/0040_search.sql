-- Search: full-text indexes of issues, comments (notes people wrote, not system notes), epics
-- and wiki pages, kept by triggers so that no write can forget them. Each is an FTS5 table over
-- its rows' text (`content=`), tokenised into runs of letters and digits without folding
-- accents, as the PostgreSQL indexes are (`search.rs` in gantry-db writes the queries).
-- `wiki_pages` holds the pages of each wiki's default branch, refreshed after every change to
-- the wiki (its git repository is the truth; this is its index).

CREATE VIRTUAL TABLE issues_search USING fts5 (
    title, description, content = 'issues', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO issues_search (rowid, title, description) SELECT id, title, description FROM issues;
CREATE TRIGGER issues_search_insert AFTER INSERT ON issues BEGIN
    INSERT INTO issues_search (rowid, title, description) VALUES (new.id, new.title, new.description);
END;
CREATE TRIGGER issues_search_delete AFTER DELETE ON issues BEGIN
    INSERT INTO issues_search (issues_search, rowid, title, description)
        VALUES ('delete', old.id, old.title, old.description);
END;
CREATE TRIGGER issues_search_update AFTER UPDATE OF title, description ON issues BEGIN
    INSERT INTO issues_search (issues_search, rowid, title, description)
        VALUES ('delete', old.id, old.title, old.description);
    INSERT INTO issues_search (rowid, title, description) VALUES (new.id, new.title, new.description);
END;

CREATE VIRTUAL TABLE notes_search USING fts5 (
    body, content = 'notes', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO notes_search (rowid, body) SELECT id, body FROM notes WHERE system = 0;
CREATE TRIGGER notes_search_insert AFTER INSERT ON notes WHEN new.system = 0 BEGIN
    INSERT INTO notes_search (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER notes_search_delete AFTER DELETE ON notes WHEN old.system = 0 BEGIN
    INSERT INTO notes_search (notes_search, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER notes_search_update AFTER UPDATE OF body ON notes WHEN old.system = 0 BEGIN
    INSERT INTO notes_search (notes_search, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO notes_search (rowid, body) VALUES (new.id, new.body);
END;
CREATE INDEX notes_created ON notes (created_at);

CREATE VIRTUAL TABLE epics_search USING fts5 (
    title, description, content = 'epics', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO epics_search (rowid, title, description) SELECT id, title, description FROM epics;
CREATE TRIGGER epics_search_insert AFTER INSERT ON epics BEGIN
    INSERT INTO epics_search (rowid, title, description) VALUES (new.id, new.title, new.description);
END;
CREATE TRIGGER epics_search_delete AFTER DELETE ON epics BEGIN
    INSERT INTO epics_search (epics_search, rowid, title, description)
        VALUES ('delete', old.id, old.title, old.description);
END;
CREATE TRIGGER epics_search_update AFTER UPDATE OF title, description ON epics BEGIN
    INSERT INTO epics_search (epics_search, rowid, title, description)
        VALUES ('delete', old.id, old.title, old.description);
    INSERT INTO epics_search (rowid, title, description) VALUES (new.id, new.title, new.description);
END;

CREATE TABLE wiki_pages (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    -- The page's path without its `.md` (`guides/Install`), its title, and the git blob its
    -- text was read from (a refresh reads only the pages whose blob changed).
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    blob_id TEXT NOT NULL,
    content TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (project_id, slug)
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

-- The wikis made before this index: one refresh queued per project (one without a wiki has
-- nothing to index).
INSERT INTO background_jobs (kind, payload, status, dedupe_key, attempts, max_attempts, run_at, created_at, updated_at)
    SELECT 'index_wiki', '{"project":' || id || '}', 'queued', 'index_wiki:' || id, 0, 8,
           CAST(strftime('%s', 'now') AS INTEGER) * 1000, CAST(strftime('%s', 'now') AS INTEGER) * 1000,
           CAST(strftime('%s', 'now') AS INTEGER) * 1000
    FROM projects;
