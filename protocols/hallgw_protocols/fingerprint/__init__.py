"""Fingerprint scanner protocols.

:mod:`.as608` is the packet protocol of the Synochip AS608, ZhianTec ZFM-20 and
GROW R30x / R50x modules (reference/protocols.md section 2).
"""
