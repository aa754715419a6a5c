-- Run once by the postgres image on an empty data volume
-- (/docker-entrypoint-initdb.d), as the POSTGRES_USER superuser, who owns them.
-- One database per service: no service reads another's database.
CREATE DATABASE referral;
CREATE DATABASE shelter;
CREATE DATABASE employment;
CREATE DATABASE legal_aid;
