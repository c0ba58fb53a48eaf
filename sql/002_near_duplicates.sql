-- 002: near-duplicate clustering (MinHash signatures, LSH band keys, clusters and their members).

-- One MinHash signature per clustered article (datasketch, uint32 hash values as bytes).
CREATE TABLE article_minhash (
    article_id  bigint PRIMARY KEY REFERENCES articles (id),
    num_perm    integer NOT NULL,
    signature   bytea   NOT NULL
);

-- LSH band keys: articles sharing any (band, key) are candidates; finding them is an index lookup.
CREATE TABLE article_band_keys (
    band        smallint NOT NULL,
    key         bigint   NOT NULL,
    article_id  bigint   NOT NULL REFERENCES articles (id),
    PRIMARY KEY (band, key, article_id)
);
CREATE INDEX article_band_keys_article_idx ON article_band_keys (article_id);

CREATE TABLE near_duplicate_clusters (
    id                         bigserial PRIMARY KEY,
    representative_article_id  bigint      NOT NULL REFERENCES articles (id),
    created_at                 timestamptz NOT NULL DEFAULT now()
);

-- The relation (cluster, member, similarity): an article belongs to at most one cluster.
CREATE TABLE near_duplicate_members (
    article_id          bigint PRIMARY KEY REFERENCES articles (id),
    cluster_id          bigint      NOT NULL REFERENCES near_duplicate_clusters (id),
    similarity          real        NOT NULL,
    matched_article_id  bigint REFERENCES articles (id),
    added_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX near_duplicate_members_cluster_idx ON near_duplicate_members (cluster_id);
