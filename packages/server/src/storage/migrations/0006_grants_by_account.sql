-- A person's grants, for their consents page: only Grant rows, by the account they belong to.
CREATE INDEX oidc_models_grant_account ON oidc_models ((payload->>'accountId')) WHERE model = 'Grant';
