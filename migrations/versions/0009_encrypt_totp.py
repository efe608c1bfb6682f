"""two-step sign-in secrets encrypted at rest

Revision ID: 0009_encrypt_totp
Revises: 0004_security
Create Date: 2026-11-22 16:40:00

Widens users.totp_secret for a Fernet token and encrypts every secret already stored, with the app's
DATA_ENCRYPTION_KEYS (or the key derived from SECRET_KEY). Downgrading decrypts them again.
"""
from alembic import op
import sqlalchemy as sa

from app.models.types import data_cipher


# revision identifiers, used by Alembic.
revision = '0009_encrypt_totp'
down_revision = '0004_security'
branch_labels = None
depends_on = None

users = sa.table('users', sa.column('id', sa.Integer), sa.column('totp_secret', sa.String))


def _rewrite(convert) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(users.c.id, users.c.totp_secret).where(users.c.totp_secret.is_not(None))).all()
    for user_id, secret in rows:
        bind.execute(users.update().where(users.c.id == user_id).values(totp_secret=convert(secret)))


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.String(length=255),
                              existing_nullable=True)
    cipher = data_cipher()
    _rewrite(lambda secret: cipher.encrypt(secret.encode()).decode())


def downgrade():
    cipher = data_cipher()
    _rewrite(lambda token: cipher.decrypt(token.encode()).decode())
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=255), type_=sa.String(length=64),
                              existing_nullable=True)
