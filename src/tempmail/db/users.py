"""Users (`users`), their roles (`user_roles`), address bindings (`users_address`) and passkeys.

Every query about an account lives here; the rules (who may bind what, how many) live in
`tempmail.accounts.users`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from tempmail.db.addresses import LISTED
from tempmail.db.paging import Page, contains, fetch_page
from tempmail.db.reads import Reads
from tempmail.db.tables import address, user_passkeys, user_roles, users, users_address, utcnow


class UserExists(Exception):
    """The e-mail is taken (the UNIQUE constraint decides, so two racing sign-ups cannot both win)."""


class AlreadyBound(Exception):
    """The address is bound to another user (UNIQUE address_id decides)."""


_address_count = (
    select(func.count()).where(users_address.c.user_id == users.c.id).scalar_subquery().label("address_count")
)
_role_text = select(user_roles.c.role_text).where(user_roles.c.user_id == users.c.id).scalar_subquery()
# What the admin's user list shows: never the password hash.
LISTED_USERS = select(
    users.c.id,
    users.c.user_email,
    users.c.created_at,
    users.c.updated_at,
    _address_count,
    _role_text.label("role_text"),
)


_LIVE = select(users.c.id).where(users.c.id == bindparam("user_id"), users.c.user_email == bindparam("email"))


class UserStore:
    def __init__(self, engine: AsyncEngine, reads: Reads) -> None:
        self.engine = engine
        # The check made on every request with a user token goes the hot reads' way.
        self.reads = reads

    async def is_live(self, user_id: int, email: str) -> bool:
        """Whether a token's (id, email) still names an existing account."""
        return bool(await self.reads.fetch(_LIVE, {"user_id": user_id, "email": email}, quick=True))

    # --- accounts -------------------------------------------------------------------------

    async def get(self, user_id: int) -> Any | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(users).where(users.c.id == user_id))).first()

    async def get_by_email(self, email: str) -> Any | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(users).where(users.c.user_email == email))).first()

    async def create(self, email: str, password_hash: str, role: str | None = None) -> int:
        """Insert the user (and its role, in the same transaction)."""
        try:
            async with self.engine.begin() as conn:
                result = await conn.execute(insert(users).values(user_email=email, password=password_hash))
                assert result.inserted_primary_key is not None
                user_id = int(result.inserted_primary_key[0])
                if role:
                    await conn.execute(insert(user_roles).values(user_id=user_id, role_text=role))
        except IntegrityError as exc:
            raise UserExists(email) from exc
        return user_id

    async def set_password(self, user_id: int, password_hash: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(users).where(users.c.id == user_id).values(password=password_hash, updated_at=utcnow())
            )
        return result.rowcount > 0

    async def delete(self, user_id: int) -> bool:
        """Delete the account with its bindings, role and passkeys; its addresses stay."""
        async with self.engine.begin() as conn:
            for table in (users_address, user_roles, user_passkeys):
                await conn.execute(delete(table).where(table.c.user_id == user_id))
            result = await conn.execute(delete(users).where(users.c.id == user_id))
        return result.rowcount > 0

    async def page(self, limit: int, offset: int, query: str = "") -> Page[Any]:
        statement: Select[Any] = LISTED_USERS
        if query:
            statement = statement.where(contains(users.c.user_email, query))
        return await fetch_page(self.engine, statement.order_by(users.c.id.desc()), limit, offset)

    # --- roles ----------------------------------------------------------------------------

    async def role(self, user_id: int) -> str | None:
        async with self.engine.connect() as conn:
            role = await conn.scalar(select(user_roles.c.role_text).where(user_roles.c.user_id == user_id))
        return str(role) if role else None

    async def set_role(self, user_id: int, role: str) -> None:
        """Give the user `role`; an empty role removes it."""
        async with self.engine.begin() as conn:
            await conn.execute(delete(user_roles).where(user_roles.c.user_id == user_id))
            if role:
                await conn.execute(insert(user_roles).values(user_id=user_id, role_text=role))

    # --- address bindings -----------------------------------------------------------------

    async def owner_of(self, address_id: int) -> int | None:
        """The user an address is bound to."""
        query = select(users_address.c.user_id).where(users_address.c.address_id == address_id)
        async with self.engine.connect() as conn:
            owner = await conn.scalar(query)
        return int(owner) if owner is not None else None

    async def bound_count(self, user_id: int) -> int:
        query = select(func.count()).where(users_address.c.user_id == user_id)
        async with self.engine.connect() as conn:
            return int(await conn.scalar(query) or 0)

    async def bind(self, user_id: int, address_id: int) -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(users_address).values(user_id=user_id, address_id=address_id))
        except IntegrityError as exc:
            raise AlreadyBound(address_id) from exc

    async def unbind(self, user_id: int, address_id: int) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(users_address).where(
                    users_address.c.user_id == user_id, users_address.c.address_id == address_id
                )
            )
        return result.rowcount > 0

    def _bound(self, user_id: int) -> Select[Any]:
        return LISTED.where(
            address.c.id.in_(select(users_address.c.address_id).where(users_address.c.user_id == user_id))
        ).order_by(address.c.id.desc())

    async def bound_page(self, user_id: int, limit: int, offset: int) -> Page[Any]:
        return await fetch_page(self.engine, self._bound(user_id), limit, offset)

    async def bound_all(self, user_id: int) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(self._bound(user_id))).all())

    async def transfer(self, address_id: int, target_user_id: int) -> tuple[int, str] | None:
        """Move an address to another user under a new id, so credentials of the old id die.

        The row is re-created as the reference does it: the same name (and with it the mails,
        sent items and sender row, all keyed by name) and password, a new id, no source_meta,
        created now. Returns the new (id, name), or None if the address is gone.
        """
        async with self.engine.begin() as conn:
            row = (await conn.execute(select(address).where(address.c.id == address_id))).first()
            if row is None:
                return None
            await conn.execute(delete(users_address).where(users_address.c.address_id == address_id))
            await conn.execute(delete(address).where(address.c.id == address_id))
            result = await conn.execute(
                insert(address).values(name=row.name, password=row.password, source_meta=None)
            )
            assert result.inserted_primary_key is not None
            new_id = int(result.inserted_primary_key[0])
            await conn.execute(insert(users_address).values(user_id=target_user_id, address_id=new_id))
        return new_id, str(row.name)

    # --- passkeys -------------------------------------------------------------------------

    async def passkeys(self, user_id: int) -> list[Any]:
        query = (
            select(
                user_passkeys.c.passkey_name,
                user_passkeys.c.passkey_id,
                user_passkeys.c.created_at,
                user_passkeys.c.updated_at,
            )
            .where(user_passkeys.c.user_id == user_id)
            .order_by(user_passkeys.c.id.desc())
        )
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).all())

    async def passkey_by_credential(self, passkey_id: str) -> Any | None:
        async with self.engine.connect() as conn:
            query = select(user_passkeys).where(user_passkeys.c.passkey_id == passkey_id)
            return (await conn.execute(query)).first()

    async def add_passkey(self, user_id: int, name: str, passkey_id: str, passkey: str, counter: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(user_passkeys).values(
                    user_id=user_id,
                    passkey_name=name,
                    passkey_id=passkey_id,
                    passkey=passkey,
                    counter=counter,
                )
            )

    async def rename_passkey(self, user_id: int, passkey_id: str, name: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(user_passkeys)
                .where(user_passkeys.c.user_id == user_id, user_passkeys.c.passkey_id == passkey_id)
                .values(passkey_name=name, updated_at=utcnow())
            )
        return result.rowcount > 0

    async def set_passkey_counter(self, row_id: int, counter: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(user_passkeys)
                .where(user_passkeys.c.id == row_id)
                .values(counter=counter, updated_at=utcnow())
            )

    async def delete_passkey(self, user_id: int, passkey_id: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(user_passkeys).where(
                    user_passkeys.c.user_id == user_id, user_passkeys.c.passkey_id == passkey_id
                )
            )
        return result.rowcount > 0
