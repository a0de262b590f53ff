# Offline checks of the module with a mocked AWS provider: no credentials, no
# API calls. Run: terraform init -backend=false && terraform test
# (test/deploy/terraform.test.ts runs this when terraform is installed).

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  # Provider-side validation still runs, so computed ARNs must look like ARNs.
  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:123456789012:kg-test-alarms"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/kg-test"
    }
  }

  mock_resource "aws_ssm_parameter" {
    defaults = {
      arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/kg-test/config"
    }
  }

  mock_resource "aws_secretsmanager_secret" {
    defaults = {
      arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kg-test/redis-url-AbCdEf"
    }
  }

  mock_resource "aws_secretsmanager_secret_version" {
    defaults = {
      arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kg-test/redis-url-AbCdEf"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/kg-test"
    }
  }

  mock_resource "aws_lb_target_group" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/kg-test-ingress/0123456789abcdef"
      arn_suffix = "targetgroup/kg-test-ingress/0123456789abcdef"
    }
  }

  mock_resource "aws_ecs_task_definition" {
    defaults = {
      arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/kg-test:1"
    }
  }

  mock_resource "aws_security_group" {
    defaults = {
      id = "sg-0fedcba9876543210"
    }
  }
}

override_resource {
  target = aws_elasticache_replication_group.redis
  values = {
    member_clusters          = ["kg-test-redis-001", "kg-test-redis-002"]
    primary_endpoint_address = "master.kg-test-redis.abc123.euw1.cache.amazonaws.com"
  }
}

variables {
  name                   = "kg-test"
  vpc_id                 = "vpc-0123456789abcdef0"
  private_subnet_ids     = ["subnet-0000000000000000a", "subnet-0000000000000000b"]
  cluster_arn            = "arn:aws:ecs:eu-west-1:123456789012:cluster/test"
  alb_listener_arn       = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/test/0123456789abcdef/0123456789abcdef"
  alb_security_group_id  = "sg-0123456789abcdef0"
  alb_arn_suffix         = "app/test/0123456789abcdef"
  image                  = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/keygate@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  app_image              = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1"
  policies_yaml          = "version: 1\n"
  master_keys_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kg/master-keys-AbCdEf"
  jwt_secret_arn         = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kg/jwt-AbCdEf"
  redis_auth_token       = "test-token-not-a-secret-0123456789"
  alarm_emails           = ["ops@example.com"]
}

run "task_definition" {
  command = apply

  assert {
    condition     = [for c in jsondecode(aws_ecs_task_definition.keygate.container_definitions) : c.name] == ["keygate-policy", "keygate", "app", "cloudwatch-agent"]
    error_message = "the task runs the policy init container, keygate, the app and the agent"
  }

  assert {
    condition     = one([for c in jsondecode(aws_ecs_task_definition.keygate.container_definitions) : c.stopTimeout if c.name == "keygate"]) > 25
    error_message = "keygate's stopTimeout must exceed KEYGATE_DRAIN_TIMEOUT (25 s)"
  }

  assert {
    condition     = one([for c in jsondecode(aws_ecs_task_definition.keygate.container_definitions) : c.dependsOn[0] if c.name == "app"]) == { containerName = "keygate", condition = "HEALTHY" }
    error_message = "the app starts only once keygate is healthy"
  }

  assert {
    condition     = one(flatten([for c in jsondecode(aws_ecs_task_definition.keygate.container_definitions) : [for e in c.environment : e.value if e.name == "KEYGATE_REPLICAS"] if c.name == "keygate"])) == "2"
    error_message = "KEYGATE_REPLICAS follows desired_count"
  }

  assert {
    condition     = one(aws_ecs_service.keygate.load_balancer).container_name == "keygate" && one(aws_ecs_service.keygate.load_balancer).container_port == 8080
    error_message = "only keygate's ingress is in the target group"
  }

  assert {
    condition     = aws_lb_target_group.ingress.health_check[0].path == "/_keygate/healthz"
    error_message = "the ALB checks keygate's ingress health path"
  }
}

run "redis" {
  command = apply

  assert {
    condition     = one([for p in aws_elasticache_parameter_group.redis.parameter : p.value if p.name == "maxmemory-policy"]) == "noeviction"
    error_message = "the vault's Redis must never evict"
  }

  assert {
    condition     = aws_elasticache_replication_group.redis.transit_encryption_enabled && aws_elasticache_replication_group.redis.automatic_failover_enabled && aws_elasticache_replication_group.redis.snapshot_retention_limit >= 1
    error_message = "Redis needs TLS, automatic failover and snapshots"
  }

  assert {
    condition     = startswith(aws_secretsmanager_secret_version.redis_url.secret_string, "rediss://:")
    error_message = "REDIS_URL uses TLS and the AUTH token"
  }
}

run "monitoring" {
  command = apply

  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.keygate.dashboard_body).widgets) >= 10
    error_message = "the dashboard renders from deploy/cloudwatch/dashboard.json"
  }

  assert {
    condition     = !strcontains(aws_cloudwatch_dashboard.keygate.dashboard_body, "$${")
    error_message = "every dashboard placeholder is filled"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.store_degraded.dimensions.service == "kg-test"
    error_message = "alarms select this deployment's service dimension"
  }

  assert {
    condition     = length(aws_sns_topic_subscription.alarm_email) == 1
    error_message = "each alarm email gets a subscription"
  }
}

run "rejects_bad_name" {
  command = plan

  variables {
    name = "Keygate_Prod"
  }

  expect_failures = [var.name]
}
