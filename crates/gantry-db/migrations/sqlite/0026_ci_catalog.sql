-- The CI/CD Catalog: projects their Owners marked as catalog resources ("CI/CD Catalog
-- project" in the project's settings). A row is the mark; the project's components are read
-- from its repository (`templates/`) and its versions from its tags when the catalog is looked
-- at, so nothing here goes stale.
CREATE TABLE ci_catalog_resources (
    project_id INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
