"""The door (登录安全): lockout after failed sign-ins, the second factor, session limits, passwords.

What 等保 2.0 level 3 asks of identity authentication: login-failure handling (django-axes), two
factors for administrators (django-otp: TOTP and one-time recovery codes), session timeouts, password
complexity, every security event in the audit trail.
"""
