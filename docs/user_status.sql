-- Every person of every organization, by email, with their status:
--   active   they have a current user row (not marked deleted);
--   invited  no current user row, but a pending invite that has not expired;
--   removed  neither, and a user row of theirs is marked deleted (_sdc_deleted_at is set),
--            i.e. they were a member and vanished from the API's user list.
-- People whose invites are only accepted or expired, and who never had a user row, are not listed.
-- Tables as target-postgres loads them (add_record_metadata and activate_version on); run it with
-- the target schema on the search path, e.g.
--   PGOPTIONS='-c search_path=claude_developer' psql -h 127.0.0.1 -U postgres -d test -f docs/user_status.sql
WITH people AS (
    SELECT organization_id,
           lower(email) AS email,
           _sdc_deleted_at IS NULL AS is_current_user,
           FALSE AS has_pending_invite
    FROM users
    UNION ALL
    SELECT organization_id,
           lower(email),
           FALSE,
           TRUE
    FROM invites
    WHERE status = 'pending'
      AND _sdc_deleted_at IS NULL
      AND (expires_at IS NULL OR expires_at > (now() AT TIME ZONE 'UTC'))
)
SELECT people.organization_id,
       organizations.name AS organization_name,
       people.email,
       CASE
           WHEN bool_or(people.is_current_user) THEN 'active'
           WHEN bool_or(people.has_pending_invite) THEN 'invited'
           ELSE 'removed'
       END AS status
FROM people
LEFT JOIN organizations ON organizations.organization_id = people.organization_id
GROUP BY people.organization_id, organizations.name, people.email
ORDER BY organization_name, people.email;
