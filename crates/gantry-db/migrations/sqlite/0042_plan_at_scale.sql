-- The issue lists' most asked order, newest first within a project (the API's default and the
-- list page's), read straight from an index: a page of 20 reads 20 rows instead of sorting
-- every issue of the project. (The boards' order has its index since 0033.)
CREATE INDEX issues_project_created ON issues (project_id, created_at, id);
