# --- Naming and placement -----------------------------------------------------

variable "name" {
  description = "Name prefix for every resource, and the `service` dimension of the Keygate metrics (e.g. keygate-prod)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,23}$", var.name))
    error_message = "name must be 2-24 characters of [a-z0-9-], starting with a letter (it prefixes target group and cache names)."
  }
}

variable "vpc_id" {
  description = "VPC of the tasks, the cache and the load balancer."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets for the tasks and the ElastiCache replication group (at least two AZs)."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "private_subnet_ids needs at least two subnets in different AZs (Multi-AZ failover)."
  }
}

variable "cluster_arn" {
  description = "ARN of the existing ECS cluster the service runs in."
  type        = string
}

variable "alb_listener_arn" {
  description = "ARN of the existing HTTPS listener of the public ALB; a rule forwards to keygate's ingress."
  type        = string
}

variable "alb_security_group_id" {
  description = "Security group of that ALB: the only source allowed to reach keygate's ingress port."
  type        = string
}

variable "alb_arn_suffix" {
  description = "arn_suffix of the ALB (for the latency and 5xx widgets and the p95 alarm)."
  type        = string
}

variable "listener_rule_priority" {
  description = "Priority of the listener rule that forwards to keygate."
  type        = number
  default     = 100
}

variable "host_headers" {
  description = "Host names the listener rule matches; empty matches every host."
  type        = list(string)
  default     = []
}

# --- Images and sizing ---------------------------------------------------------

variable "image" {
  description = "keygate image (built from the repository's Dockerfile), pinned by digest."
  type        = string
}

variable "app_image" {
  description = "The application image keygate fronts. It must listen on 127.0.0.1:app_port."
  type        = string
}

variable "app_port" {
  description = "Loopback port of the application inside the task (never exposed)."
  type        = number
  default     = 8000
}

variable "cloudwatch_agent_image" {
  description = "CloudWatch agent image that scrapes keygate's /metrics."
  type        = string
  default     = "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:latest"
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64 (the keygate image is built for both)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "task_cpu" {
  description = "Task CPU units (shared by keygate, the app and the agent)."
  type        = number
  default     = 1024
}

variable "task_memory" {
  description = "Task memory in MiB."
  type        = number
  default     = 2048
}

variable "desired_count" {
  description = "Number of tasks. Also KEYGATE_REPLICAS: the local fallback gives each task ceil(rate / replicas)."
  type        = number
  default     = 2
}

variable "log_level" {
  description = "keygate LOG_LEVEL."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Retention of the container log group."
  type        = number
  default     = 30
}


# --- Policy and secrets ----------------------------------------------------------

variable "policies_yaml" {
  description = "Contents of policies.yaml (e.g. file(\"policies.yaml\")); validate it with `keygate check` first. At most 8 KiB (SSM advanced parameter)."
  type        = string

  validation {
    condition     = length(var.policies_yaml) > 0 && length(var.policies_yaml) <= 8192
    error_message = "policies_yaml must be 1 to 8192 characters."
  }
}

variable "master_keys_secret_arn" {
  description = "Secrets Manager secret holding KEYGATE_MASTER_KEYS (comma-separated ID:BASE64, from `keygate keygen`)."
  type        = string
}

variable "jwt_secret_arn" {
  description = "Secrets Manager secret holding the current JWT signing secret (KEYGATE_JWT_SECRET; the app gets it as JWT_SECRET)."
  type        = string
}

variable "jwt_secret_previous_arn" {
  description = "Secret still accepted during a JWT secret rotation (KEYGATE_JWT_SECRET_PREVIOUS); null outside a rotation (then it is the current one)."
  type        = string
  default     = null
}

variable "secrets_kms_key_arns" {
  description = "Customer-managed KMS keys encrypting those secrets, if any (the execution role may decrypt with them)."
  type        = list(string)
  default     = []
}

variable "app_task_role_policy_arns" {
  description = "IAM policies the application needs, attached to the task role."
  type        = list(string)
  default     = []
}

# --- ElastiCache -------------------------------------------------------------------

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "redis_engine_version" {
  description = "Redis OSS engine version (7.x)."
  type        = string
  default     = "7.1"
}

variable "redis_auth_token" {
  description = "AUTH token of the replication group (16-128 characters, no @, \", / or spaces). Stored in Secrets Manager as part of REDIS_URL; it is also in the Terraform state, so keep the state encrypted."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^[^@\"/ ]{16,128}$", var.redis_auth_token))
    error_message = "redis_auth_token must be 16-128 characters without @, \", / or spaces."
  }
}

variable "redis_snapshot_retention_days" {
  description = "Days of automatic snapshots (the vault's backups). Keep retired master keys at least this long."
  type        = number
  default     = 7
}

# --- Alarms ------------------------------------------------------------------------

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each must confirm the subscription email)."
  type        = list(string)
  default     = []
}

variable "error_rate_threshold_percent" {
  description = "Ingress 5xx share of requests (percent, over 5 minutes) that raises the error-rate alarm."
  type        = number
  default     = 1
}

variable "latency_p95_threshold_seconds" {
  description = "p95 target response time at the ALB that raises the latency alarm."
  type        = number
  default     = 0.5
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
