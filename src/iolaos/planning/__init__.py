"""Coverage policy, patrol planning and optimal volunteer-to-patrol assignment."""
