output "service_name" {
  description = "ECS service name."
  value       = aws_ecs_service.keygate.name
}

output "task_definition_arn" {
  description = "Task definition revision the service runs."
  value       = aws_ecs_task_definition.keygate.arn
}

output "target_group_arn" {
  description = "Target group of keygate's ingress (the only target in the task)."
  value       = aws_lb_target_group.ingress.arn
}

output "task_security_group_id" {
  description = "Security group of the tasks."
  value       = aws_security_group.task.id
}

output "redis_primary_endpoint" {
  description = "Primary endpoint of the ElastiCache replication group."
  value       = aws_elasticache_replication_group.redis.primary_endpoint_address
}

output "redis_url_secret_arn" {
  description = "Secret holding REDIS_URL (for one-off tasks such as `keygate vault rotate`)."
  value       = aws_secretsmanager_secret.redis_url.arn
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  value       = aws_sns_topic.alarms.arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard name."
  value       = aws_cloudwatch_dashboard.keygate.dashboard_name
}

output "log_group_name" {
  description = "Log group of the containers."
  value       = aws_cloudwatch_log_group.containers.name
}
