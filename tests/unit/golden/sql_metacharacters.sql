-- root: posts
SELECT coalesce(json_agg(json_build_object('id', coalesce((to_jsonb(d."id") #>> '{}'), E'\u0001\u0002fraiseql:null'::text)) ORDER BY d.n), '[]'::json) FROM (SELECT v."id", row_number() OVER (ORDER BY v."id") AS n FROM "tv_post" AS v WHERE ((((v.data->>'title')::text) = $1::text AND ((v.data->>'title')::text) = ANY($2::text[]::text[])) AND (((v.data->>'slug')::text) = $3::text AND NOT coalesce(((v.data->>'slug')::text) = ANY($4::text[]::text[]), false))) ORDER BY v."id" LIMIT $5::int8 OFFSET $6::int8) AS d
-- root: userByUsername
SELECT json_build_object('id', coalesce((to_jsonb(d."id") #>> '{}'), E'\u0001\u0002fraiseql:null'::text)) FROM (SELECT v."id" FROM "v_user" AS v WHERE ((v.data->>'username')::text) = $1::text LIMIT 2) AS d
