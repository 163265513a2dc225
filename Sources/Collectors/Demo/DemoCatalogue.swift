/// The raw material of the synthetic organisation "Acme": names and shapes that look like a real company's.
enum DemoCatalogue {
    static let firstNames = [
        "priya", "james", "sofia", "wei", "amara", "lucas", "hana", "diego", "fatima", "noah", "elena", "kwame",
        "yuki", "omar", "clara", "raj", "ingrid", "mateo", "leila", "tom", "aisha", "jonas", "mei", "samuel",
        "olga", "arjun", "chloe", "tariq", "nina", "felix", "zara", "ben", "ana", "kofi", "lena", "hugo",
        "maya", "ivan", "rosa", "dev",
    ]
    static let lastNames = [
        "shah", "okafor", "rossi", "chen", "mensah", "silva", "tanaka", "garcia", "haddad", "kim", "novak", "boateng",
        "sato", "farouk", "meyer", "patel", "larsen", "lopez", "nasser", "walsh", "bello", "berg", "lin", "adeyemi",
        "ivanova", "iyer", "martin", "aziz", "kovac", "schmidt", "ali", "cohen", "costa", "owusu", "fischer", "moreau",
        "reyes", "popov", "vega", "nair",
    ]
    static let teams = ["platform", "data", "payments", "growth", "security", "it", "sales-ops", "support", "ml", "mobile"]

    struct App {
        let name: String
        let slug: String
        let sanctioned: Double
        let sso: Double
        let scopes: [String]
    }
    static let apps: [App] = [
        App(name: "Google Workspace", slug: "google-workspace", sanctioned: 1, sso: 1, scopes: ["openid", "email"]),
        App(name: "Slack", slug: "slack", sanctioned: 1, sso: 1, scopes: ["channels:read", "chat:write"]),
        App(name: "GitHub", slug: "github", sanctioned: 1, sso: 0.9, scopes: ["read:org", "repo"]),
        App(name: "Jira", slug: "jira", sanctioned: 1, sso: 1, scopes: ["read:jira-work", "write:jira-work"]),
        App(name: "Salesforce", slug: "salesforce", sanctioned: 1, sso: 1, scopes: ["api", "refresh_token", "full_access"]),
        App(name: "Notion", slug: "notion", sanctioned: 0.9, sso: 0.6, scopes: ["read_content", "update_content"]),
        App(name: "Figma", slug: "figma", sanctioned: 1, sso: 0.8, scopes: ["file_read"]),
        App(name: "Zoom", slug: "zoom", sanctioned: 1, sso: 1, scopes: ["meeting:read"]),
        App(name: "Workday", slug: "workday", sanctioned: 1, sso: 1, scopes: ["openid"]),
        App(name: "HubSpot", slug: "hubspot", sanctioned: 0.8, sso: 0.4, scopes: ["crm.objects.contacts.write", "contacts"]),
        App(name: "Zendesk", slug: "zendesk", sanctioned: 1, sso: 0.9, scopes: ["read", "write"]),
        App(name: "Datadog", slug: "datadog", sanctioned: 1, sso: 0.9, scopes: ["dashboards_read"]),
        App(name: "PagerDuty", slug: "pagerduty", sanctioned: 1, sso: 0.7, scopes: ["read"]),
        App(name: "Snowflake", slug: "snowflake", sanctioned: 1, sso: 0.7, scopes: ["session:role:analyst"]),
        App(name: "Tableau", slug: "tableau", sanctioned: 0.9, sso: 0.5, scopes: ["read"]),
        App(name: "Miro", slug: "miro", sanctioned: 0.7, sso: 0.3, scopes: ["boards:read", "boards:write"]),
        App(name: "Airtable", slug: "airtable", sanctioned: 0.4, sso: 0.1, scopes: ["data.records:write"]),
        App(name: "Dropbox", slug: "dropbox", sanctioned: 0.3, sso: 0.1, scopes: ["files.content.write", "files.readwrite.all"]),
        App(name: "DocuSign", slug: "docusign", sanctioned: 1, sso: 0.8, scopes: ["signature"]),
        App(name: "Calendly", slug: "calendly", sanctioned: 0.5, sso: 0.1, scopes: ["https://www.googleapis.com/auth/calendar"]),
        App(name: "Loom", slug: "loom", sanctioned: 0.5, sso: 0.2, scopes: ["email"]),
        App(name: "Canva", slug: "canva", sanctioned: 0.5, sso: 0.1, scopes: ["https://www.googleapis.com/auth/drive"]),
        App(name: "Grammarly", slug: "grammarly", sanctioned: 0.3, sso: 0.05, scopes: ["https://mail.google.com/"]),
        App(name: "ChatGPT", slug: "chatgpt", sanctioned: 0.4, sso: 0.3, scopes: ["https://www.googleapis.com/auth/drive", "mail.read"]),
        App(name: "Claude", slug: "claude", sanctioned: 0.6, sso: 0.5, scopes: ["openid", "email"]),
        App(name: "Perplexity", slug: "perplexity", sanctioned: 0.2, sso: 0.05, scopes: ["email"]),
        App(
            name: "Otter.ai", slug: "otter-ai", sanctioned: 0.2, sso: 0, scopes: ["https://www.googleapis.com/auth/calendar", "mail.read"]),
        App(
            name: "Fireflies", slug: "fireflies", sanctioned: 0.1, sso: 0,
            scopes: ["https://www.googleapis.com/auth/drive", "https://mail.google.com/"]),
        App(name: "Gong", slug: "gong", sanctioned: 0.9, sso: 0.8, scopes: ["api:calls:read"]),
        App(name: "Linear", slug: "linear", sanctioned: 0.7, sso: 0.6, scopes: ["read", "write"]),
        App(name: "Vercel", slug: "vercel", sanctioned: 0.6, sso: 0.3, scopes: ["repo"]),
        App(name: "Sentry", slug: "sentry", sanctioned: 1, sso: 0.8, scopes: ["project:read"]),
        App(name: "CircleCI", slug: "circleci", sanctioned: 0.8, sso: 0.5, scopes: ["repo", "admin:org"]),
        App(name: "Postman", slug: "postman", sanctioned: 0.6, sso: 0.3, scopes: ["workspace:write"]),
        App(name: "Asana", slug: "asana", sanctioned: 0.4, sso: 0.2, scopes: ["default"]),
        App(name: "Box", slug: "box", sanctioned: 0.6, sso: 0.5, scopes: ["root_readwrite"]),
        App(name: "Retool", slug: "retool", sanctioned: 0.7, sso: 0.4, scopes: ["admin"]),
        App(
            name: "Zapier", slug: "zapier", sanctioned: 0.3, sso: 0.1,
            scopes: ["https://mail.google.com/", "https://www.googleapis.com/auth/drive", "repo"]),
        App(name: "Typeform", slug: "typeform", sanctioned: 0.4, sso: 0.1, scopes: ["responses:read"]),
        App(name: "Intercom", slug: "intercom", sanctioned: 0.9, sso: 0.6, scopes: ["read_users", "write_conversations"]),
    ]
    static let internalWords = [
        "billing", "admin", "reports", "status", "wiki", "grafana", "kibana", "jenkins", "metabase", "airflow", "argo", "backstage",
        "vault-ui", "harbor", "sonarqube", "nexus",
    ]

    struct ServiceTemplate {
        let base: String
        let kind: String
        let idPrefix: String
        let scopes: [(String, String)] // (scope with {env}, level)
        let ci: Bool
        let vendor: String?
        let credential: String
    }
    static let serviceAccounts: [ServiceTemplate] = [
        ServiceTemplate(
            base: "ci-deployer", kind: "iam_user", idPrefix: "aws:iam:user/",
            scopes: [("ecs:{env}-cluster", "write"), ("ecr:*", "write"), ("iam:PassRole", "admin")], ci: true, vendor: nil,
            credential: "access_key"),
        ServiceTemplate(
            base: "terraform", kind: "iam_role", idPrefix: "aws:iam:role/", scopes: [("*", "admin")], ci: true, vendor: nil,
            credential: "access_key"),
        ServiceTemplate(
            base: "backup-s3-sync", kind: "iam_user", idPrefix: "aws:iam:user/", scopes: [("s3:{env}-backups", "write"), ("s3:*", "read")],
            ci: false, vendor: nil, credential: "access_key"),
        ServiceTemplate(
            base: "datadog-integration", kind: "iam_role", idPrefix: "aws:iam:role/",
            scopes: [("cloudwatch:*", "read"), ("ec2:Describe*", "read"), ("s3:{env}-logs", "write")], ci: false, vendor: "Datadog",
            credential: "access_key"),
        ServiceTemplate(
            base: "reporting-etl", kind: "iam_user", idPrefix: "aws:iam:user/",
            scopes: [("rds:{env}-main", "admin"), ("s3:{env}-exports", "write")], ci: false, vendor: nil, credential: "access_key"),
        ServiceTemplate(
            base: "legacy-ftp-bridge", kind: "iam_user", idPrefix: "aws:iam:user/",
            scopes: [("s3:partner-drop", "write"), ("s3:*", "admin")], ci: false, vendor: nil, credential: "access_key"),
        ServiceTemplate(
            base: "lambda-deployer", kind: "iam_user", idPrefix: "aws:iam:user/", scopes: [("lambda:*", "admin")], ci: true, vendor: nil,
            credential: "access_key"),
        ServiceTemplate(
            base: "argo-cd", kind: "k8s_service_account", idPrefix: "k8s:{env}/argocd/sa/", scopes: [("k8s:{env}:cluster-admin", "admin")],
            ci: true, vendor: nil, credential: "token"),
        ServiceTemplate(
            base: "external-dns", kind: "k8s_service_account", idPrefix: "k8s:{env}/kube-system/sa/",
            scopes: [("route53:{env}-zone", "write")], ci: false, vendor: nil, credential: "federated"),
        ServiceTemplate(
            base: "cert-manager", kind: "k8s_service_account", idPrefix: "k8s:{env}/cert-manager/sa/",
            scopes: [("k8s:{env}:secrets", "write")], ci: false, vendor: nil, credential: "federated"),
        ServiceTemplate(
            base: "prometheus", kind: "k8s_service_account", idPrefix: "k8s:{env}/monitoring/sa/", scopes: [("k8s:{env}:*", "read")],
            ci: false, vendor: nil, credential: "token"),
        ServiceTemplate(
            base: "etl-runner", kind: "gcp_service_account", idPrefix: "gcp:sa/",
            scopes: [("bigquery:{env}-warehouse", "admin"), ("gcs:{env}-raw", "write")], ci: false, vendor: nil, credential: "api_key"),
        ServiceTemplate(
            base: "looker-sa", kind: "gcp_service_account", idPrefix: "gcp:sa/", scopes: [("bigquery:{env}-warehouse", "read")], ci: false,
            vendor: "Looker", credential: "api_key"),
        ServiceTemplate(
            base: "github-actions-release", kind: "github_app", idPrefix: "github:app/",
            scopes: [("repo:acme/*", "write"), ("packages:acme", "write")], ci: true, vendor: nil, credential: "token"),
        ServiceTemplate(
            base: "infra-deploy-key", kind: "deploy_key", idPrefix: "github:deploy-key/", scopes: [("repo:acme/infra", "write")], ci: true,
            vendor: nil, credential: "deploy_key"),
        ServiceTemplate(
            base: "renovate-bot", kind: "github_app", idPrefix: "github:app/", scopes: [("repo:acme/*", "write")], ci: false,
            vendor: "Mend", credential: "token"),
        ServiceTemplate(
            base: "svc_reporting", kind: "db_user", idPrefix: "db:postgres/", scopes: [("postgres:{env}-main", "admin")], ci: false,
            vendor: nil, credential: "password"),
        ServiceTemplate(
            base: "svc_billing", kind: "db_user", idPrefix: "db:postgres/", scopes: [("postgres:{env}-billing", "write")], ci: false,
            vendor: nil, credential: "password"),
        ServiceTemplate(
            base: "jenkins", kind: "ci_account", idPrefix: "ci:jenkins/", scopes: [("ssh:{env}-fleet", "admin"), ("repo:acme/*", "write")],
            ci: true, vendor: nil, credential: "ssh_key"),
        ServiceTemplate(
            base: "slack-alerts-bot", kind: "bot", idPrefix: "slack:bot/", scopes: [("slack:chat:write", "write"), ("slack:*", "read")],
            ci: false, vendor: nil, credential: "token"),
        ServiceTemplate(
            base: "jira-automation", kind: "bot", idPrefix: "atlassian:bot/", scopes: [("jira:*", "admin")], ci: false, vendor: "Atlassian",
            credential: "api_key"),
        ServiceTemplate(
            base: "pagerduty-sync", kind: "integration", idPrefix: "pagerduty:integration/", scopes: [("pagerduty:incidents", "write")],
            ci: false, vendor: "PagerDuty", credential: "api_key"),
        ServiceTemplate(
            base: "snowflake-loader", kind: "db_user", idPrefix: "snowflake:user/",
            scopes: [("snowflake:{env}-raw", "write"), ("snowflake:accountadmin", "admin")], ci: false, vendor: "Fivetran",
            credential: "password"),
        ServiceTemplate(
            base: "okta-scim-provisioner", kind: "integration", idPrefix: "okta:app/", scopes: [("directory:users", "write")], ci: false,
            vendor: "Okta", credential: "token"),
    ]
    static let environments = ["prod", "staging", "dev"]

    struct AgentTemplate {
        let tool: String
        let server: String
        let kind: String
        let scopes: [(String, String)]
        let credential: String
        let configPath: String
    }
    static let agents: [AgentTemplate] = [
        AgentTemplate(
            tool: "cursor", server: "github", kind: "mcp_server", scopes: [("repo:acme/*", "write")], credential: "personal_access_token",
            configPath: "~/.cursor/mcp.json"),
        AgentTemplate(
            tool: "claude-code", server: "postgres", kind: "mcp_server",
            scopes: [("postgres:prod-replica", "read"), ("postgres:dev-main", "admin")], credential: "password",
            configPath: "~/.claude.json"),
        AgentTemplate(
            tool: "vscode", server: "jira", kind: "mcp_server", scopes: [("jira:*", "write")], credential: "api_key",
            configPath: ".vscode/mcp.json"),
        AgentTemplate(
            tool: "windsurf", server: "slack", kind: "mcp_server", scopes: [("slack:*", "write")], credential: "token",
            configPath: "~/.codeium/windsurf/mcp_config.json"),
        AgentTemplate(
            tool: "claude-desktop", server: "filesystem", kind: "mcp_server", scopes: [("fs:/home", "write")], credential: "federated",
            configPath: "~/.config/Claude/claude_desktop_config.json"),
        AgentTemplate(
            tool: "gemini-cli", server: "gcloud", kind: "mcp_server", scopes: [("gcp:acme-prod", "admin")], credential: "api_key",
            configPath: "~/.gemini/settings.json"),
        AgentTemplate(
            tool: "cursor", server: "linear", kind: "mcp_server", scopes: [("linear:*", "write")], credential: "api_key",
            configPath: "~/.cursor/mcp.json"),
        AgentTemplate(
            tool: "claude-code", server: "sentry", kind: "mcp_server", scopes: [("sentry:acme", "read")], credential: "token",
            configPath: "~/.claude.json"),
        AgentTemplate(
            tool: "zed", server: "kubernetes", kind: "mcp_server", scopes: [("k8s:prod:cluster-admin", "admin")], credential: "token",
            configPath: "~/.config/zed/settings.json"),
        AgentTemplate(
            tool: "github", server: "copilot", kind: "copilot", scopes: [("repo:acme/*", "read")], credential: "oauth_grant", configPath: ""
        ),
        AgentTemplate(
            tool: "langchain", server: "support-bot", kind: "autonomous_agent",
            scopes: [("zendesk:tickets", "write"), ("salesforce:*", "read")], credential: "api_key",
            configPath: "k8s secret support/langchain-env"),
        AgentTemplate(
            tool: "n8n", server: "ai-workflow", kind: "autonomous_agent", scopes: [("gmail:*", "write"), ("drive:*", "write")],
            credential: "client_secret", configPath: "n8n credentials store"),
        AgentTemplate(
            tool: "devin", server: "sandbox", kind: "autonomous_agent", scopes: [("repo:acme/*", "write"), ("aws:dev", "admin")],
            credential: "access_key", configPath: "devin secrets"),
        AgentTemplate(
            tool: "openai-assistant", server: "sales", kind: "assistant", scopes: [("hubspot:contacts", "write")], credential: "api_key",
            configPath: ".env in sales-tools repo"),
        AgentTemplate(
            tool: "crewai", server: "research", kind: "autonomous_agent", scopes: [("web", "read"), ("notion:*", "write")],
            credential: "api_key", configPath: "~/.env"),
        AgentTemplate(
            tool: "autogen", server: "triage", kind: "autonomous_agent", scopes: [("pagerduty:*", "write"), ("k8s:prod:*", "read")],
            credential: "token", configPath: "ops-bots/.env"),
    ]

    static let exposures = [
        "committed to acme/infra in .env", "plaintext in Jenkins job config", "pasted in Slack #deploys",
        "in a public gist", "plaintext in ~/.bash_history on jump-01", "in a Confluence page",
    ]
    static let osChoices: [(String, [String])] = [
        ("macOS", ["15.1", "15.3", "14.7", "13.6"]), ("Windows", ["11 23H2", "11 24H2", "10 22H2"]),
        ("Ubuntu", ["24.04", "22.04", "20.04"]), ("iOS", ["18.1", "17.6"]),
    ]

    struct RequestTemplate {
        let population: Int // 0 app, 1 device, 2 service account, 3 agent
        let scope: String
        let ttl: Double
        let reason: String
    }
    static let requests: [RequestTemplate] = [
        RequestTemplate(population: 3, scope: "repo:acme/api:write", ttl: 1800, reason: "open a PR fixing the flaky auth test"),
        RequestTemplate(population: 2, scope: "aws:prod:deploy", ttl: 3600, reason: "release 2026.11 hotfix"),
        RequestTemplate(population: 2, scope: "iam:admin", ttl: 7200, reason: "rotate the KMS key policy"),
        RequestTemplate(
            population: 3, scope: "postgres:prod-replica:read", ttl: 900, reason: "answer a support question about invoice totals"),
        RequestTemplate(population: 1, scope: "vpn:prod", ttl: 28800, reason: "on-call this week"),
        RequestTemplate(population: 3, scope: "k8s:prod:admin", ttl: 1800, reason: "restart the stuck ingress controller"),
        RequestTemplate(population: 0, scope: "drive:finance:read", ttl: 86400, reason: "quarter-end reconciliation export"),
        RequestTemplate(population: 2, scope: "s3:prod-backups:write", ttl: 3600, reason: "restore test for INC-2291"),
        RequestTemplate(population: 3, scope: "slack:channels:write", ttl: 1800, reason: "post the weekly metrics digest"),
        RequestTemplate(population: 2, scope: "snowflake:accountadmin:admin", ttl: 3600, reason: "create the new analytics warehouse"),
    ]
}
