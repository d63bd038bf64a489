-- root: hosts
SELECT coalesce(json_agg(json_build_object('id', coalesce((to_jsonb(d."id") #>> '{}'), E'\u0001\u0002fraiseql:null'::text)) ORDER BY d.n), '[]'::json) FROM (SELECT v."id", row_number() OVER (ORDER BY v."id") AS n FROM "v_host" AS v WHERE (((v.data->>'embedding')::vector) <=> $1::text::vector) < $2::text::float8 ORDER BY v."id" LIMIT $3::int8 OFFSET $4::int8) AS d
