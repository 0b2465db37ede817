-- RideBooking.Data accounts, step 1: the migration account, which creates and changes the schema.
-- Plain SQL for MySQL 8.0+ and MariaDB 10.6+, run by an administrator. Not run by
-- RideBookingSchema.ApplyAsync: copy it into your own provisioning. Safe to run again.
--
-- Placeholders (replace every one before running; Flyway placeholders and envsubst use this form):
--   ${rb_database}        the database that holds the schema, for example rides
--   ${rb_migration_user}  the migration account, for example rides_migrate
--   ${rb_migration_host}  its host part, for example % or 10.0.0.%
--
-- No password is set here and none belongs in a repository. Create the account first, with your own
-- secret store and authentication (GRANT does not create accounts), for example:
--   CREATE USER 'rides_migrate'@'%' IDENTIFIED BY '<from your secret store>' REQUIRE SSL;
--
-- Order: this file, then the schema scripts (schema/0*.sql, run by this account: ApplyAsync, Flyway,
-- DbUp, ...), then 02_application_user.sql (its grants name tables, which must exist by then).

-- What the schema scripts need: CREATE (tables), ALTER and INDEX (columns and indexes added by later
-- scripts), REFERENCES (foreign keys), SELECT (the scripts read information_schema, which shows only what
-- the account may see) and INSERT/UPDATE (ApplyAsync records each script in schema_history; a migration
-- tool writes its own history table). DELETE is for data migrations and migration tools' history.
-- No DROP: no script drops a table. Add it here only when a later script needs it.
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES
  ON `${rb_database}`.* TO '${rb_migration_user}'@'${rb_migration_host}';
