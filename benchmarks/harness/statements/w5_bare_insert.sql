\set p random(1, 100000)
\set a random(1, 10000)
INSERT INTO comments (post_id, author_id, body) VALUES (md5('post-' || :p)::uuid, md5('user-' || :a)::uuid, 'bench-w5 pgb');
