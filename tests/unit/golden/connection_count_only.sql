-- root: postsConnection
SELECT json_build_object('totalCount', (SELECT count(*) FROM "tv_post" AS v WHERE (((v.data->'author')->>'username')::text) = $1::text))
-- root: postsCount
SELECT to_json(count(*)) FROM "tv_post" AS v WHERE (v."status" = $1::text OR (((((v.data->'author')->>'bio')::text)) IS NULL) = $2::text::boolean)
