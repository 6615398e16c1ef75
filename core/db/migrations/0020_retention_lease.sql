-- The periodic retention pass is held under the `retention` lease of core/leases (the `leases`
-- table of 0017, with its fencing token) like every other single job, instead of a row lease of
-- its own.
DROP TABLE IF EXISTS maintenance_leases;
