"""Referrals, information requests, joint plans, case conferences and the resource catalogue."""
